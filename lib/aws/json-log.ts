import type { Log } from '../telemetry/ports.ts';

/** The Lambda context fields a log line carries (what Powertools' `injectLambdaContext` adds). */
export interface LambdaContextFields {
  readonly awsRequestId: string;
  readonly functionName: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string | number;
}

/** Where {@link JsonLog} writes and what it names. */
export interface JsonLogOptions {
  readonly serviceName: string;
  /** Default: the environment (`POWERTOOLS_LOG_LEVEL`, `_X_AMZN_TRACE_ID`, `AWS_LAMBDA_INITIALIZATION_TYPE`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Default: INFO to standard output, WARN and ERROR to standard error, as Powertools writes them. */
  readonly write?: (line: string, stream: 'stdout' | 'stderr') => void;
}

/** Powertools' level numbers: a line is written when its level is at least the configured one. */
const LEVELS: Readonly<Record<string, number>> = {
  TRACE: 6,
  DEBUG: 8,
  INFO: 12,
  WARN: 16,
  ERROR: 20,
  CRITICAL: 24,
  SILENT: 28,
};

/** Keys of the line itself: a field of the same name is dropped, as Powertools drops it. */
const RESERVED = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'cold_start',
  'function_arn',
  'function_memory_size',
  'function_name',
  'function_request_id',
  'sampling_rate',
  'xray_trace_id',
]);

/**
 * The API function's log lines: the JSON lines the Powertools Logger writes with `injectLambdaContext`
 * (the same keys in the same order, fields without value left out; test/aws/json-log.test.ts compares
 * them), built with one `JSON.stringify` per line. The Powertools Logger costs about a tenth of a warm
 * request's CPU and 20 KB of the bundle (docs/operators.md, "Bundle size"). It writes what it is
 * given: callers never pass key material or a whole token (lib/telemetry/ports.ts).
 */
export class JsonLog implements Log {
  readonly #service: string;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #write: (line: string, stream: 'stdout' | 'stderr') => void;
  readonly #threshold: number;
  /** `"cold_start":…,…"function_request_id":"…",` for the invocation being served, else ''. */
  #context = '';
  #coldStart: boolean;

  constructor(options: JsonLogOptions) {
    this.#service = JSON.stringify(options.serviceName);
    this.#env = options.env ?? process.env;
    this.#write =
      options.write ??
      ((line, stream) => (stream === 'stdout' ? process.stdout : process.stderr).write(line));
    const level = (this.#env.POWERTOOLS_LOG_LEVEL ?? this.#env.AWS_LAMBDA_LOG_LEVEL ?? 'INFO').toUpperCase();
    this.#threshold = LEVELS[level] ?? LEVELS.INFO!;
    // Provisioned concurrency initializes ahead of traffic: Powertools reports no cold start there.
    this.#coldStart = (this.#env.AWS_LAMBDA_INITIALIZATION_TYPE ?? 'on-demand').trim() === 'on-demand';
  }

  /** Call at the start of each invocation: its lines carry this context (and the first one, cold_start). */
  setContext(context: LambdaContextFields): void {
    const coldStart = this.#coldStart;
    this.#coldStart = false;
    this.#context =
      `"cold_start":${coldStart},"function_arn":${JSON.stringify(context.invokedFunctionArn)},` +
      `"function_memory_size":${JSON.stringify(context.memoryLimitInMB)},` +
      `"function_name":${JSON.stringify(context.functionName)},` +
      `"function_request_id":${JSON.stringify(context.awsRequestId)},`;
  }

  info(message: string, fields?: Record<string, unknown>): void {
    if (this.#threshold <= LEVELS.INFO!) this.#line('INFO', message, fields, 'stdout');
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    if (this.#threshold <= LEVELS.WARN!) this.#line('WARN', message, fields, 'stderr');
  }

  error(message: string, fields?: Record<string, unknown>): void {
    if (this.#threshold <= LEVELS.ERROR!) this.#line('ERROR', message, fields, 'stderr');
  }

  #line(
    level: string,
    message: string,
    fields: Record<string, unknown> | undefined,
    stream: 'stdout' | 'stderr',
  ) {
    const trace = traceIdOf(this.#env._X_AMZN_TRACE_ID);
    let line =
      `{"level":"${level}","message":${JSON.stringify(message)},"timestamp":"${new Date().toISOString()}",` +
      `"service":${this.#service},${this.#context}"sampling_rate":0` +
      (trace === undefined ? '' : `,"xray_trace_id":${JSON.stringify(trace)}`);
    if (fields !== undefined) {
      // Copied only when a field must go, and stringified with the Error replacer only when one
      // holds an Error: JSON.stringify with a replacer costs several times as much.
      let drop = false;
      let error = false;
      for (const key in fields) {
        const value = fields[key];
        if (value === undefined || value === null || value === '' || RESERVED.has(key)) drop = true;
        else if (value instanceof Error) error = true;
      }
      let kept = fields;
      if (drop) {
        kept = {};
        for (const key in fields) {
          const value = fields[key];
          if (value === undefined || value === null || value === '' || RESERVED.has(key)) continue;
          kept[key] = value;
        }
      }
      const json = error ? JSON.stringify(kept, errorsAsObjects) : JSON.stringify(kept);
      if (json !== '{}') line += `,${json.slice(1, -1)}`;
    }
    this.#write(`${line}}\n`, stream);
  }
}

/** The trace id of `_X_AMZN_TRACE_ID` (`Root=1-…;Parent=…;Sampled=1`): its Root, as Powertools reads it. */
function traceIdOf(header: string | undefined): string | undefined {
  if (header === undefined || header === '') return undefined;
  if (!header.includes('=')) return header;
  for (const field of header.split(';')) {
    const [key, value] = field.split('=');
    if (key === 'Root') return value;
  }
  return undefined;
}

/** Errors (a field that is one) as Powertools writes them: name, message and stack (JSON.stringify alone gives `{}`). */
function errorsAsObjects(_key: string, value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  return { name: value.name, message: value.message, stack: value.stack };
}
