// Switching the last signer: kms profile back (docs/operators.md, "KMS signing"): the packaging
// resolver (infra/aws/signet-config.cjs), called exactly as `serverless package` calls it, keeps the
// KMS grants and the KMS-enabled API entry while a profile is marked kms: retiring, lets no retiring
// ring create KMS keys, and drops all of it only once no profile names KMS. The multi stage of
// test/infra/aws/template.test.ts shows how these values land in the template.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump as toYaml } from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';

interface Resolved {
  readonly kmsSigning: string;
  readonly kmsCreatesKeys: string;
  readonly kmsKeyRings: string[];
  readonly kmsCreateKeyRings: string[];
  readonly apiHandler: string;
}

const resolveConfig = createRequire(import.meta.url)('../../../infra/aws/signet-config.cjs') as (options: {
  resolveVariable: (name: string) => Promise<unknown>;
}) => Promise<Resolved>;
const dir = mkdtempSync(join(tmpdir(), 'signet-kms-packaging-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function profile(name: string, extra: Record<string, unknown> = {}) {
  return {
    domains: [`${name}.example.com`],
    keyRing: { secretId: `signet/dev/${name}/key-ring` },
    ...extra,
  };
}

/** Runs the resolver as osls does, with the dev stage's params and a config of these profiles. */
function packageWith(profiles: Record<string, unknown>): Promise<Resolved> {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.yml`);
  const names = Object.keys(profiles);
  writeFileSync(file, toYaml({ defaultProfile: names[0], profiles }));
  const variables: Record<string, unknown> = {
    'self:custom.signet.configFile': file,
    'param:activeKeyAgeGraceSeconds': '172800',
    'param:apiAuthorizer': 'none',
    'sls:stage': 'dev',
  };
  return resolveConfig({
    resolveVariable: async (name) => {
      if (!(name in variables)) throw new Error(`The test resolver has no ${name}.`);
      return variables[name];
    },
  });
}

describe('packaging a switch back from signer: kms', () => {
  it('keeps the KMS grants and the KMS API entry for the last profile marked kms: retiring, without CreateKey', async () => {
    const resolved = await packageWith({
      media: profile('media'),
      downloads: profile('downloads', { kms: 'retiring' }),
    });
    expect(resolved).toMatchObject({
      kmsSigning: 'true',
      kmsCreatesKeys: 'false',
      kmsKeyRings: ['signet/dev/downloads/key-ring'],
      kmsCreateKeyRings: ['none'],
      apiHandler: 'functions/api-kms.handler',
    });
  });

  it('grants CreateKey for the signer: kms rings only, the rest for retiring ones too', async () => {
    const resolved = await packageWith({
      media: profile('media', { signer: 'kms' }),
      downloads: profile('downloads', { kms: 'retiring' }),
    });
    expect(resolved).toMatchObject({
      kmsSigning: 'true',
      kmsCreatesKeys: 'true',
      kmsKeyRings: ['signet/dev/media/key-ring', 'signet/dev/downloads/key-ring'],
      kmsCreateKeyRings: ['signet/dev/media/key-ring'],
      apiHandler: 'functions/api-kms.handler',
    });
  });

  it('drops every KMS grant and the KMS client once no profile names KMS', async () => {
    const resolved = await packageWith({ media: profile('media'), downloads: profile('downloads') });
    expect(resolved).toMatchObject({
      kmsSigning: 'false',
      kmsCreatesKeys: 'false',
      kmsKeyRings: ['none'],
      kmsCreateKeyRings: ['none'],
      apiHandler: 'functions/api.handler',
    });
  });

  it('fails packaging on kms: retiring beside signer: kms, naming the field', async () => {
    await expect(
      packageWith({ media: profile('media', { signer: 'kms', kms: 'retiring' }) }),
    ).rejects.toThrow(/profiles\.media\.kms.*kms: retiring only with signer: secrets-manager/s);
  });
});
