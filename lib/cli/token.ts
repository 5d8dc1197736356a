import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FileStateStore } from '../../infra/local/state.ts';
import { createDevTokenIssuer } from '../../infra/local/token-issuer.ts';
import { loadCliConfig } from './config.ts';
import { type CliIo, EnvironmentError, EXIT, integerOption, UsageError } from './io.ts';

export const TOKEN_HELP = `Usage: signet token [--sub NAME] [--scope SCOPE]... [--expires-in SECONDS] [--state-dir DIR] [--config FILE]

Prints a development JWT that the local signing API (npm start) accepts, signed by the sandbox's
token issuer. For local use only: production tokens come from your identity provider.

Options:
  --sub NAME            the subject (default: demo)
  --scope SCOPE         a scope to grant; repeat for several (default: demo:read demo:user)
  --expires-in SECONDS  lifetime (default 3600)
  --state-dir DIR       where npm start keeps its state (default .signet); the sandbox must
                        have started there once, since its token issuer key lives there
  --config FILE         the config to take the issuer and audience from (default: .signet/config.json)

Example:
  curl -H "Authorization: Bearer $(npx signet token)" -H 'Content-Type: application/json' \\
    -d '{"url":"http://127.0.0.1:4602/private/hello.txt"}' http://127.0.0.1:4603/v1/signed-urls
`;

/** `signet token`: a development JWT for the local API. */
export async function token(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      sub: { type: 'string', default: 'demo' },
      scope: { type: 'string', multiple: true },
      'expires-in': { type: 'string' },
      'state-dir': { type: 'string' },
      config: { type: 'string' },
    },
    strict: true,
  });
  const { config } = loadCliConfig(values.config, io);
  const jwt = config.auth.jwt;
  if (jwt === undefined)
    throw new EnvironmentError('Expected auth.jwt in the config: the API takes no bearer tokens.');
  const expiresIn = integerOption(values['expires-in'], 'expires-in') ?? 3600;
  if (expiresIn <= 0) throw new UsageError(`Expected --expires-in to be positive; got ${expiresIn}.`);
  const stateDir = resolve(io.cwd, values['state-dir'] ?? '.signet');
  const store = new FileStateStore(stateDir, 'token-issuer');
  // Only the running sandbox's issuer key makes a token the API accepts. Creating a fresh key here
  // (a wrong or missing --state-dir, or a production config) would print a token that every API
  // refuses with 401, with nothing saying why.
  if (store.load() === undefined) {
    throw new EnvironmentError(
      `Expected the sandbox's token issuer key in ${join(stateDir, 'token-issuer.json')}; there is none. ` +
        'Start the sandbox first (npm start, or npm start -- --config FILE), and pass --state-dir with ' +
        'the directory it printed ("state in ...") if it is not .signet. Production tokens come from your identity provider.',
    );
  }
  const issuer = createDevTokenIssuer({
    store,
    issuer: jwt.issuer,
    audience: Array.isArray(jwt.audience) ? jwt.audience[0]! : (jwt.audience as string),
    now: io.now,
  });
  io.stdout(
    `${await issuer.issue({ sub: values.sub, scope: values.scope ?? ['demo:read', 'demo:user'], expiresIn })}\n`,
  );
  return EXIT.ok;
}
