/**
 * The rotator as the local service runs it (docs/design.md, "The sandbox"): before the API starts,
 * until each profile's first key is active; then on a timer, one run at a time. Shared by
 * `npm start` (the demo profile) and `signet start --config FILE` (the user's profiles).
 */

import type { Log } from '../../lib/telemetry/ports.ts';

/** What the local service needs of a rotator run's result. */
export interface RotationRunResult {
  readonly activeKeyId?: string | undefined;
}

/** How often a profile's first activation is checked while its key propagates (ms). */
const FIRST_KEY_POLL_MS = 250;

/**
 * Runs `rotate` until it reports an active key: until the first key has propagated there is nothing
 * to sign with. `first` is a result already in hand (a start's bootstrap run), so it is not run twice.
 */
export async function untilActive(
  rotate: () => Promise<RotationRunResult>,
  first?: RotationRunResult,
): Promise<void> {
  let result = first ?? (await rotate());
  while (result.activeKeyId === undefined) {
    await new Promise((done) => setTimeout(done, FIRST_KEY_POLL_MS));
    result = await rotate();
  }
}

/** Rotation runs on a timer, never two at once; a failed run is logged and the next one retries. */
export interface RotationTimer {
  /** Runs once now, after any run in progress; resolves when it has finished. */
  tick(): Promise<unknown>;
  /** Stops the timer and waits for the run in progress. */
  close(): Promise<void>;
}

export function startRotationTimer(run: () => Promise<unknown>, intervalMs: number, log: Log): RotationTimer {
  let rotating: Promise<unknown> = Promise.resolve();
  const tick = () => {
    rotating = rotating.then(run).catch((error: unknown) =>
      log.error('rotation run failed', {
        error: error instanceof Error ? error.message : String(error),
      }),
    );
    return rotating;
  };
  const timer = setInterval(tick, intervalMs);
  return {
    tick,
    close: async () => {
      clearInterval(timer);
      await rotating;
    },
  };
}

/** Closes what a start opened, last first; one failing close does not keep the others open. */
export async function closeAll(closers: (() => Promise<void>)[]): Promise<void> {
  for (const closeOne of closers.reverse()) await closeOne().catch(() => undefined);
}
