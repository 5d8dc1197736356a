import { SigningError } from '../signing/index.ts';
import { API_KEYS_HELP, apiKeys } from './api-keys.ts';
import { DOCTOR_HELP, doctor } from './doctor.ts';
import { EXPLAIN_HELP, explain } from './explain.ts';
import { type CliIo, EnvironmentError, EXIT, UsageError, withEscapedOutput } from './io.ts';
import { KEYGEN_HELP, keygen } from './keygen.ts';
import { KEYS_HELP, keys } from './keys.ts';
import { REVOKE_HELP, revoke } from './revoke.ts';
import { ROTATE_HELP, rotate } from './rotate.ts';
import { SANDBOX_HELP, sandbox } from './sandbox.ts';
import { COOKIES_HELP, cookies, SIGN_HELP, sign } from './sign.ts';
import { START_HELP, start } from './start.ts';
import { STATUS_HELP, status } from './status.ts';
import { TOKEN_HELP, token } from './token.ts';
import { VERIFY_HELP, verify } from './verify.ts';

type Command = (args: string[], io: CliIo) => number | Promise<number>;

const COMMANDS: Record<string, { run: Command; help: string; summary: string }> = {
  keygen: {
    run: keygen,
    help: KEYGEN_HELP,
    summary: 'generate a signing key pair (private.pem, public.pem)',
  },
  sign: { run: sign, help: SIGN_HELP, summary: 'print a CloudFront signed URL' },
  cookies: {
    run: cookies,
    help: COOKIES_HELP,
    summary: 'print CloudFront signed cookies (Set-Cookie lines)',
  },
  explain: {
    run: explain,
    help: EXPLAIN_HELP,
    summary: 'say what CloudFront would answer for a URL, and why',
  },
  doctor: {
    run: doctor,
    help: DOCTOR_HELP,
    summary: 'find the configuration drift that makes CloudFront answer 403, with remedies',
  },
  start: {
    run: (args, io) => start(args, io),
    help: START_HELP,
    summary: 'run Signet locally (what npm start runs): sandbox, demo profile, API, rotator',
  },
  rotate: {
    run: rotate,
    help: ROTATE_HELP,
    summary: 'run one rotation step now (--start begins a rotation early)',
  },
  revoke: {
    run: revoke,
    help: REVOKE_HELP,
    summary: 'emergency: take a key out of the key group and the ring now',
  },
  keys: { run: keys, help: KEYS_HELP, summary: "list a profile's keys: state, age, in the key group or not" },
  status: {
    run: (args, io) => status(args, io),
    help: STATUS_HELP,
    summary: "serve a live page on 127.0.0.1: a profile's key timeline, quotas and doctor's findings",
  },
  token: { run: token, help: TOKEN_HELP, summary: 'print a development JWT the local API accepts' },
  verify: {
    run: verify,
    help: VERIFY_HELP,
    summary: 'after a deploy: health, a signed canary through the distribution, doctor; one verdict',
  },
  'api-keys': {
    run: apiKeys,
    help: API_KEYS_HELP,
    summary: 'create, list or revoke API keys (only their hashes are stored)',
  },
  sandbox: {
    run: (args, io) => sandbox(args, io),
    help: SANDBOX_HELP,
    summary: 'run local Secrets Manager, CloudFront API and edge stand-ins',
  },
};

/** The top-level `--help`. */
export function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(width)}  ${summary}`);
  return `Usage: signet <command> [options]

Signet hands out Amazon CloudFront signed URLs and cookies and rotates their keys.

Commands:
${lines.join('\n')}

Run "signet <command> --help" for a command's options.
Exit status: 0 success, 1 denied or a failed check, 2 usage error, 3 environment error.
`;
}

/** Runs one `signet` command and returns its exit status; never throws. */
export async function main(argv: string[], outside: CliIo = processIo()): Promise<number> {
  // Every command prints text that comes from outside (URLs, policies, key names, AWS messages):
  // escaped once here, so no command can forget it.
  const io = withEscapedOutput(outside);
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(mainHelp());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.stderr(
      `signet: unknown command ${JSON.stringify(name)}. Expected one of: ${Object.keys(COMMANDS).join(', ')}.\n`,
    );
    return EXIT.usage;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(command.help);
    return EXIT.ok;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    return reportError(name, error, io);
  }
}

function reportError(name: string, error: unknown, io: CliIo): number {
  if (error instanceof UsageError || isParseArgsError(error)) {
    io.stderr(`signet ${name}: ${(error as Error).message}\nRun "signet ${name} --help" for usage.\n`);
    return EXIT.usage;
  }
  if (error instanceof SigningError) {
    io.stderr(`signet ${name}: ${error.message} (${error.code})\n`);
    return EXIT.usage;
  }
  if (error instanceof EnvironmentError) {
    io.stderr(`signet ${name}: ${error.message}\n`);
    return EXIT.environment;
  }
  io.stderr(`signet ${name}: unexpected error: ${(error as Error)?.message ?? String(error)}\n`);
  return EXIT.environment;
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    now: () => Math.floor(Date.now() / 1000),
  };
}
