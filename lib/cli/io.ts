/** What a command may touch of the outside world, so tests can run commands in-process. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Seconds since the epoch. */
  readonly now: () => number;
}

/** Exit codes of every `signet` command (docs/design.md, "Contracts"). */
export const EXIT = { ok: 0, denied: 1, usage: 2, environment: 3 } as const;

/** A mistake in how a command was called: printed with a pointer to `--help`, exit 2. */
export class UsageError extends Error {
  readonly code = 'ERR_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Something outside the command went wrong (a file, AWS, the sandbox): exit 3. */
export class EnvironmentError extends Error {
  readonly code = 'ERR_ENVIRONMENT';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EnvironmentError';
  }
}

/** Parses a whole number of seconds from an option, naming the option when it is not one. */
export function integerOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value))
    throw new UsageError(`Expected --${name} to be a whole number of seconds; got ${JSON.stringify(value)}.`);
  return Number(value);
}

/**
 * Control characters that a terminal acts on: C0 but tab and newline, DEL, and C1 (some terminals
 * take U+009B as CSI). A URL, policy, key name or error message from outside could otherwise clear
 * the screen, fake colours or write the clipboard (OSC 52).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** Text with every terminal control character shown as a visible `\xNN` escape instead. */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The same io, with everything written to stdout and stderr passed through {@link escapeControl}. */
export function withEscapedOutput(io: CliIo): CliIo {
  return {
    ...io,
    stdout: (text) => io.stdout(escapeControl(text)),
    stderr: (text) => io.stderr(escapeControl(text)),
  };
}
