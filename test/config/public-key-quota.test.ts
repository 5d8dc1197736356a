import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/index.ts';
import { publicKeyQuotaOf } from '../../lib/rotation/quotas.ts';

// aws.publicKeyQuota: CloudFront's per-account quota of public keys once raised in Service Quotas
// (docs/operators.md, "Several stages in one account"). Every profile plans with it.

const profile = (secretId: string) => ({
  domains: ['media.example.com'],
  keyRing: { secretId },
  grants: [],
});

describe('aws.publicKeyQuota', () => {
  it('reaches every profile, and the default is CloudFront’s 10', () => {
    const raised = parseConfig({
      aws: { publicKeyQuota: 25 },
      profiles: { media: profile('a'), docs: profile('b') },
    });
    expect(Object.values(raised.profiles).map(publicKeyQuotaOf)).toEqual([25, 25]);
    const plain = parseConfig({ profiles: { media: profile('a') } });
    expect(plain.profiles.media!.publicKeyQuota).toBeUndefined();
    expect(publicKeyQuotaOf(plain.profiles.media!)).toBe(10);
  });

  it('reads back the same once parsed and written out', () => {
    const once = parseConfig({
      stage: 'prod',
      aws: { publicKeyQuota: 12 },
      profiles: { media: profile('a') },
    });
    expect(parseConfig(JSON.parse(JSON.stringify(once)))).toEqual(once);
  });

  it.each([
    [
      0,
      'aws.publicKeyQuota',
      'Expected the public key quota Service Quotas shows for CloudFront (at least 1; the default is 10)',
    ],
    [12.5, 'aws.publicKeyQuota', 'Expected a whole number of public keys'],
  ])('refuses %s, saying what it expected', (value, field, message) => {
    expect(() => parseConfig({ aws: { publicKeyQuota: value }, profiles: { media: profile('a') } })).toThrow(
      `${field}: ${message}`,
    );
  });

  it('refuses a per-profile quota that differs from the account’s', () => {
    expect(() => parseConfig({ profiles: { media: { ...profile('a'), publicKeyQuota: 20 } } })).toThrow(
      "profiles.media.publicKeyQuota: Expected the public key quota under aws (aws.publicKeyQuota: 20); it is the account's, so a profile takes the config's",
    );
  });
});
