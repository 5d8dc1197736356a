/**
 * Fault injection for the rotator's crash-safety tests: a decorator over any port (KeyRingStore,
 * KeyGroupRegistry) and a middleware for any AWS SDK client. Each counts the calls that pass through
 * it on one shared {@link FaultSwitch} and throws before or after the Nth one, the way a Lambda killed
 * mid-run (or an AWS error) would leave things. The code under test and the sandbox stand-ins run
 * unchanged.
 */

/** The error a scheduled fault throws. */
export class InjectedFaultError extends Error {
  readonly code = 'ERR_INJECTED_FAULT';
  constructor(message: string) {
    super(message);
    this.name = 'InjectedFaultError';
  }
}

/** Where to fail: the 1-based index of a call, before it is made or after it succeeded. */
export interface FaultPlan {
  readonly at: number;
  readonly when: 'before' | 'after';
}

/** Counts calls across every decorated port or client and fires at most one planned fault. */
export class FaultSwitch {
  calls = 0;
  readonly log: string[] = [];
  plan: FaultPlan | undefined;
  fired: string | undefined;
  /** Calls made while disarmed (the test's own reads) pass through uncounted. */
  armed = true;

  /** Counts one call; throws if the plan says to fail before it. Returns its index (0: not counted). */
  before(label: string): number {
    if (!this.armed) return 0;
    const index = ++this.calls;
    this.log.push(label);
    if (this.plan?.at === index && this.plan.when === 'before') this.#fire(`before ${label} (call ${index})`);
    return index;
  }

  /** Throws if the plan says to fail after call `index` succeeded. */
  after(index: number, label: string): void {
    if (index === 0) return;
    if (this.plan?.at === index && this.plan.when === 'after') this.#fire(`after ${label} (call ${index})`);
  }

  #fire(where: string): never {
    this.fired = where;
    this.plan = undefined;
    throw new InjectedFaultError(`Injected fault ${where}.`);
  }
}

/** Wraps every method of `target` so each call goes through `faults` first. */
export function withFaults<T extends object>(target: T, faults: FaultSwitch, label: string): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== 'function') return value;
      const name = `${label}.${String(property)}`;
      return async (...args: unknown[]) => {
        const index = faults.before(name);
        // Called on the real object: adapters keep their SDK client in private fields.
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(object, args);
        faults.after(index, name);
        return result;
      };
    },
  });
}

/** The slice of an AWS SDK v3 client this needs. */
interface SdkClientLike {
  middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

/**
 * Counts every AWS call a client makes (one per command, whatever the SDK retries underneath) and
 * fails the planned one: finer-grained than {@link withFaults}, since one port call may make several
 * AWS calls (a ring save is PutSecretValue then UpdateSecretVersionStage).
 */
export function injectSdkFaults(client: SdkClientLike, faults: FaultSwitch, label: string): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = `${label}.${context.commandName ?? 'command'}`;
      const index = faults.before(name);
      const output = await next(args);
      faults.after(index, name);
      return output;
    },
    { step: 'initialize', name: `signetFaults-${label}` },
  );
}
