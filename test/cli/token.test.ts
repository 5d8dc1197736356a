import { copyFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { FileStateStore } from '../../infra/local/state.ts';
import { createDevTokenIssuer } from '../../infra/local/token-issuer.ts';
import { EXIT } from '../../lib/cli/io.ts';
import { runCli, tempDir } from '../support/cli.ts';

const PROD_CONFIG = resolve(import.meta.dirname, '../../infra/aws/config/prod.yml');
const ISSUER = 'https://auth.example.com/';

describe('signet token', () => {
  it('refuses to mint a token with a key no sandbox knows, and writes nothing', async () => {
    const dir = tempDir();
    copyFileSync(PROD_CONFIG, join(dir, 'prod.yml'));
    const run = await runCli(['token', '--config', 'prod.yml'], { cwd: dir });
    expect(run.code).toBe(EXIT.environment);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(join(dir, '.signet', 'token-issuer.json'));
    expect(run.stderr).toContain('--state-dir');
    expect(existsSync(join(dir, '.signet'))).toBe(false);
  });

  it('signs with the issuer key the sandbox keeps in --state-dir', async () => {
    const dir = tempDir();
    copyFileSync(PROD_CONFIG, join(dir, 'prod.yml'));
    // What the sandbox does at start: an issuer whose key lives in its state directory.
    const sandboxIssuer = createDevTokenIssuer({
      store: new FileStateStore(join(dir, 'state'), 'token-issuer'),
      issuer: ISSUER,
      audience: 'signet',
    });
    const jwks = createLocalJWKSet(sandboxIssuer.jwks());

    const missing = await runCli(['token', '--config', 'prod.yml'], { cwd: dir });
    expect(missing.code).toBe(EXIT.environment);

    const run = await runCli(['token', '--config', 'prod.yml', '--state-dir', 'state', '--sub', 'ana'], {
      cwd: dir,
    });
    expect(run.code).toBe(EXIT.ok);
    const { payload, protectedHeader } = await jwtVerify(run.stdout.trim(), jwks, {
      issuer: ISSUER,
      audience: 'signet',
    });
    expect(payload.sub).toBe('ana');
    expect(protectedHeader.kid).toBe(sandboxIssuer.currentKeyId());
  });
});
