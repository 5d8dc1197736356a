import { parseArgs } from 'node:util';
import { createAwsClients } from '../aws/clients.ts';
import type { Config } from '../config/index.ts';
import { diagnose } from '../doctor/diagnose.ts';
import { readSnapshot } from '../doctor/read-snapshot.ts';
import { loadCliConfig } from './config.ts';
import { liveSources, requireProfile, withAwsErrors } from './doctor.ts';
import { type CliIo, EnvironmentError, EXIT, UsageError } from './io.ts';

/** `signet verify --help`. */
export const VERIFY_HELP = `Usage: signet verify --api URL [--profile P] [--url CANARY] [--timeout SECONDS] [--json]
                     [--config FILE]

The last step of a deploy (docs/operators.md, "Verifying a deploy"): checks the stage end to end
as a caller and a viewer would meet it, and prints one verdict.

  health   GET <api>/v1/health answers, and the profile can sign
  sign     POST <api>/v1/signed-urls signs the canary object for the caller
  fetch    the signed canary URL answers 200 through the distribution, and the canary without a
           signature answers 403 (else its cache behaviour does not require signatures)
  doctor   "signet doctor" for the profile finds no errors

The canary is profiles.<P>.rotation.canary.url of the config (an object behind the distribution,
under a path that requires signed URLs), or --url. The caller's credential comes from the
environment, never the command line: SIGNET_TOKEN (a JWT, sent as Authorization: Bearer) or
SIGNET_API_KEY (sent as x-api-key); it must be granted the canary URL. It is never printed, nor
is the signed URL.

Options:
  --api URL           the signing API's base URL (the stack's HttpApiUrl output, or the custom domain)
  --profile P         the profile (default: the config's defaultProfile, or its only profile)
  --url CANARY        the canary object's URL, in place of rotation.canary.url
  --timeout SECONDS   how long each request may take (default 10)
  --json              print one document { "ok", "verdict", "api", "profile", "canary",
                      "steps": [{ "step", "status": "pass"|"fail"|"skip", "detail" }] }
  --config FILE       the Signet config (default: SIGNET_CONFIG, else .signet/config.json)

Exit status: 0 every step passed, 1 a step failed, 2 usage error (no canary, no credential, a bad
option), 3 environment error (config invalid).
`;

/** One step's outcome. `detail` says what was found, and for a failure what was expected. */
export interface VerifyStep {
  readonly step: 'health' | 'sign' | 'fetch' | 'doctor';
  readonly status: 'pass' | 'fail' | 'skip';
  readonly detail: string;
}

interface Caller {
  readonly headers: Record<string, string>;
  readonly kind: string;
}

/** `signet verify`: health, a signature for the canary, the canary through the distribution, doctor; one verdict. */
export async function verify(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      api: { type: 'string' },
      profile: { type: 'string' },
      url: { type: 'string' },
      timeout: { type: 'string', default: '10' },
      json: { type: 'boolean', default: false },
      config: { type: 'string' },
    },
    strict: true,
  });
  if (positionals.length > 0) throw new UsageError(`Expected no arguments; got ${positionals.join(' ')}.`);
  const api = apiOption(values.api);
  const timeoutMs = timeoutOption(values.timeout);
  const caller = callerOf(io);
  const { config } = loadCliConfig(values.config, io);
  const profileName = requireProfile(config, values.profile);
  const canary = canaryOf(config, profileName, values.url);

  const steps: VerifyStep[] = [];
  steps.push(await checkHealth(api, profileName, timeoutMs));
  const signed = await signCanary(api, profileName, canary, caller, timeoutMs);
  steps.push(signed.step);
  steps.push(
    signed.url === undefined
      ? {
          step: 'fetch',
          status: 'skip',
          detail: 'skipped: there is no signed URL to fetch (the sign step failed).',
        }
      : await fetchCanary(profileName, canary, signed.url, timeoutMs),
  );
  steps.push(await runDoctor(config, profileName, io));

  const failed = steps.filter((step) => step.status !== 'pass').map((step) => step.step);
  const ok = failed.length === 0;
  const verdict = ok
    ? `PASS: the stage at ${api} signs and serves ${canary} for profile ${profileName}`
    : `FAIL: ${failed.join(', ')} did not pass`;
  if (values.json) {
    io.stdout(`${JSON.stringify({ ok, verdict, api, profile: profileName, canary, steps })}\n`);
  } else {
    const lines = [
      `signet verify: API ${api}, profile ${profileName}, canary ${canary}, caller ${caller.kind}`,
      ...steps.map(
        (step) => `  ${step.status.toUpperCase().padEnd(4)}  ${step.step.padEnd(6)}  ${step.detail}`,
      ),
      verdict,
    ];
    io.stdout(`${lines.join('\n')}\n`);
  }
  return ok ? EXIT.ok : EXIT.denied;
}

async function checkHealth(api: string, profile: string, timeoutMs: number): Promise<VerifyStep> {
  const where = `${api}/v1/health`;
  let response: Response;
  try {
    response = await fetch(where, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  } catch (error) {
    return {
      step: 'health',
      status: 'fail',
      detail: `Expected GET ${where} to answer; ${unreachable(error)}. Check --api (the stack's HttpApiUrl output).`,
    };
  }
  const body = await jsonOf(response);
  const state = (body as { profiles?: Record<string, HealthProfile> } | undefined)?.profiles?.[profile];
  if (state === undefined) {
    return {
      step: 'health',
      status: 'fail',
      detail: `Expected GET ${where} to report profile ${profile}; it answered ${response.status}${
        body === undefined
          ? ' without a health document'
          : ` for ${Object.keys((body as { profiles?: object }).profiles ?? {}).join(', ') || 'no profile'}`
      }. Is --api the stage this config deploys?`,
    };
  }
  if (!state.canSign) {
    const starts =
      state.signingStartsAt === undefined
        ? ''
        : ` Signing starts at about ${state.signingStartsAt}, once the first key has propagated (rotation.propagation): run verify again then.`;
    return {
      step: 'health',
      status: 'fail',
      detail: `Expected profile ${profile} to be able to sign; the API answered ${response.status} and it cannot.${starts}`,
    };
  }
  const stale = state.stale ? ' (serving a stale key ring: Secrets Manager could not be read lately)' : '';
  return {
    step: 'health',
    status: state.stale ? 'fail' : 'pass',
    detail: `profile ${profile} can sign with key ${state.activeKeyId ?? '?'}${stale}.`,
  };
}

interface HealthProfile {
  readonly canSign: boolean;
  readonly activeKeyId: string | null;
  readonly stale: boolean;
  readonly signingStartsAt?: string;
}

async function signCanary(
  api: string,
  profile: string,
  canary: string,
  caller: Caller,
  timeoutMs: number,
): Promise<{ step: VerifyStep; url?: string }> {
  const where = `${api}/v1/signed-urls`;
  let response: Response;
  try {
    response = await fetch(where, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...caller.headers },
      body: JSON.stringify({ url: canary, profile }),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
  } catch (error) {
    return {
      step: {
        step: 'sign',
        status: 'fail',
        detail: `Expected POST ${where} to answer; ${unreachable(error)}.`,
      },
    };
  }
  const body = (await jsonOf(response)) as
    | { urls?: { url?: unknown }[]; keyId?: unknown; expiresAt?: unknown; type?: unknown; detail?: unknown }
    | undefined;
  const url = body?.urls?.[0]?.url;
  if (response.status === 200 && typeof url === 'string') {
    return {
      step: {
        step: 'sign',
        status: 'pass',
        detail: `the API signed the canary with key ${String(body?.keyId)} (valid until ${String(body?.expiresAt)}).`,
      },
      url,
    };
  }
  const problem =
    typeof body?.type === 'string'
      ? ` ${body.type}: ${typeof body.detail === 'string' ? body.detail : ''}`.trimEnd()
      : '';
  const hint =
    response.status === 401
      ? ` The ${caller.kind} was refused: check it, and that it is for this stage.`
      : response.status === 403
        ? ` Grant the caller the canary URL (a grant on profile ${profile} whose resources cover it).`
        : '';
  return {
    step: {
      step: 'sign',
      status: 'fail',
      detail: `Expected POST ${where} to sign the canary (200); got ${response.status}.${problem}${hint}`,
    },
  };
}

async function fetchCanary(
  profile: string,
  canary: string,
  signedUrl: string,
  timeoutMs: number,
): Promise<VerifyStep> {
  const signed = await probe(signedUrl, timeoutMs);
  if (signed.status !== 200) {
    const why =
      signed.status === 0
        ? `the request failed: ${signed.reason}`
        : `got ${signed.status}${signed.reason === '' ? '' : ` (${signed.reason})`}`;
    const remedy =
      signed.status === 403
        ? ` Run "signet doctor --profile ${profile}": the key group, the distribution's trusted key groups and propagation are the usual causes.`
        : signed.status === 404
          ? ' The object is missing at the origin: upload it, or point rotation.canary.url at one that exists.'
          : '';
    return {
      step: 'fetch',
      status: 'fail',
      detail: `Expected the signed canary to answer 200 through the distribution; ${why}.${remedy}`,
    };
  }
  const unsigned = await probe(canary, timeoutMs);
  if (unsigned.status === 200) {
    return {
      step: 'fetch',
      status: 'fail',
      detail: `The signed canary answered 200, but so does ${canary} without a signature: its cache behaviour does not require signed URLs, so the check proves nothing (and the object is public). Put the canary under a path whose behaviour trusts the key group.`,
    };
  }
  return {
    step: 'fetch',
    status: 'pass',
    detail: `the signed canary answered 200 through the distribution; unsigned, ${unsigned.status === 0 ? `the request failed (${unsigned.reason})` : `it answered ${unsigned.status}`}.`,
  };
}

/** A GET that follows no redirect (a login page is not the object) and reads at most a few KB of an error body. */
async function probe(url: string, timeoutMs: number): Promise<{ status: number; reason: string }> {
  try {
    const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    if (response.status === 200) {
      await response.body?.cancel();
      return { status: 200, reason: '' };
    }
    const text = (await response.text()).slice(0, 4096);
    // The sandbox edge says why in a header; CloudFront says it in its XML error body.
    const header = response.headers.get('x-signet-reason');
    const code = /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1];
    const message = /<Message>([^<]{1,300})<\/Message>/.exec(text)?.[1];
    const reason = [code, message, header === null ? undefined : decodeSafely(header)]
      .filter((part) => part !== undefined && part !== '')
      .join(': ');
    return { status: response.status, reason };
  } catch (error) {
    return { status: 0, reason: unreachable(error) };
  }
}

async function runDoctor(config: Config, profile: string, io: CliIo): Promise<VerifyStep> {
  const clients = createAwsClients(config);
  try {
    const snapshot = await withAwsErrors(config, () => readSnapshot(config, [profile], liveSources(clients)));
    const findings = diagnose(snapshot, new Date(io.now() * 1000));
    const errors = findings.filter((finding) => finding.severity === 'error');
    const warnings = findings.filter((finding) => finding.severity === 'warning');
    const codes = (list: typeof findings) => [...new Set(list.map((finding) => finding.code))].join(', ');
    if (errors.length > 0) {
      return {
        step: 'doctor',
        status: 'fail',
        detail: `Expected no errors; doctor found ${errors.length}: ${codes(errors)}. Run "signet doctor --profile ${profile}" for each one's remedy.`,
      };
    }
    return {
      step: 'doctor',
      status: 'pass',
      detail: `no errors${warnings.length === 0 ? '' : `; ${warnings.length} warning(s): ${codes(warnings)}`}.`,
    };
  } catch (error) {
    if (!(error instanceof EnvironmentError)) throw error;
    return { step: 'doctor', status: 'fail', detail: error.message };
  } finally {
    clients.secretsManager.destroy();
    clients.cloudfront.destroy();
  }
}

function apiOption(value: string | undefined): string {
  if (value === undefined) {
    throw new UsageError(
      'Expected --api URL: the signing API to verify (the stack\'s HttpApiUrl output, or http://127.0.0.1:4603 for "npm start").',
    );
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(
      `Expected --api to be an http(s) URL like https://api.example.com; got ${JSON.stringify(value)}.`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(
      `Expected --api to be an http(s) URL like https://api.example.com; got ${JSON.stringify(value)}.`,
    );
  }
  if (url.search !== '' || url.hash !== '') {
    throw new UsageError(`Expected --api without a query or fragment; got ${JSON.stringify(value)}.`);
  }
  return url.href.replace(/\/+$/, '');
}

function timeoutOption(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 300) {
    throw new UsageError(
      `Expected --timeout to be whole seconds from 1 to 300; got ${JSON.stringify(value)}.`,
    );
  }
  return Number(value) * 1000;
}

function callerOf(io: CliIo): Caller {
  const token = present(io.env.SIGNET_TOKEN);
  const apiKey = present(io.env.SIGNET_API_KEY);
  if (token !== undefined && apiKey !== undefined) {
    throw new UsageError(
      'Expected one caller credential; both SIGNET_TOKEN and SIGNET_API_KEY are set. Unset one.',
    );
  }
  if (token !== undefined)
    return { headers: { authorization: `Bearer ${token}` }, kind: 'JWT (SIGNET_TOKEN)' };
  if (apiKey !== undefined) return { headers: { 'x-api-key': apiKey }, kind: 'API key (SIGNET_API_KEY)' };
  throw new UsageError(
    'Expected a caller credential in the environment: SIGNET_TOKEN (a JWT) or SIGNET_API_KEY (an API key), granted the canary URL. It is never taken from the command line.',
  );
}

function canaryOf(config: Config, profileName: string, explicit: string | undefined): string {
  const profile = config.profiles[profileName]!;
  const canary = explicit ?? profile.rotation.canary?.url;
  if (canary === undefined) {
    throw new UsageError(
      `Expected a canary object: set profiles.${profileName}.rotation.canary.url in the config to an object behind the distribution, under a path that requires signed URLs (the rotator then also checks each new key against it before activating it), or pass --url.`,
    );
  }
  let url: URL;
  try {
    url = new URL(canary);
  } catch {
    throw new UsageError(`Expected the canary to be an http(s) URL; got ${JSON.stringify(canary)}.`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || !profile.domains.includes(url.host)) {
    throw new UsageError(
      `Expected the canary on one of profile ${profileName}'s domains (${profile.domains.join(', ')}) over http(s); got ${JSON.stringify(canary)}.`,
    );
  }
  return canary;
}

function present(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

async function jsonOf(response: Response): Promise<unknown> {
  try {
    return JSON.parse((await response.text()).slice(0, 1_000_000));
  } catch {
    return undefined;
  }
}

function unreachable(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'it did not answer in time (--timeout)';
  const cause = (error as { cause?: { code?: unknown; message?: unknown } })?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return `it could not be reached (${code ?? message})`;
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
