import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/index.ts';
import type { Profile } from '../../lib/config/schema.ts';
import type { KeyRingStore } from '../../lib/keys/store.ts';
import {
  keyGroupNameFor,
  publicKeyCommentFor,
  publicKeyNameFor,
  ringTagOf,
  stageOfComment,
} from '../../lib/rotation/names.ts';
import { countAccountKeys, describeAccountKeys } from '../../lib/rotation/quotas.ts';
import { type RotationResult, runRotation } from '../../lib/rotation/rotator.ts';
import { tearDownProfile } from '../../lib/rotation/teardown.ts';
import { parseVerifyingKey } from '../../lib/signing/index.ts';
import {
  type RotationSandbox,
  startRotationSandbox,
  TIMINGS,
  testProfile,
} from '../support/rotation-sandbox.ts';

// Key groups are named `signet-<stage>-<profile>` (docs/design.md, "Contracts"), so two stages with the
// same profile name share one CloudFront account; a ring that already records a group made under the
// old name `signet-<profile>` keeps it, and a fresh bootstrap adopts such a group only when it holds
// this ring's keys.

const DEV_SECRET = 'signet/dev/media/key-ring';
const PROD_SECRET = 'signet/prod/media/key-ring';

let sandbox: RotationSandbox;

beforeEach(async () => {
  sandbox = await startRotationSandbox();
});
afterEach(async () => {
  await sandbox?.close();
});

function profileOf(secretId: string, stage: string | undefined): Profile {
  const profile = testProfile({ keyRing: { secretId } });
  return stage === undefined ? profile : { ...profile, stage };
}

function run(store: KeyRingStore, profile: Profile): Promise<RotationResult> {
  return runRotation({
    profileName: 'media',
    profile,
    store,
    registry: sandbox.registry,
    now: sandbox.clock.now,
  });
}

/** Bootstraps and activates: two runs a propagation apart. */
async function bootstrapAndActivate(store: KeyRingStore, profile: Profile): Promise<RotationResult> {
  await run(store, profile);
  sandbox.clock.advance(TIMINGS.propagation);
  const activated = await run(store, profile);
  expect(activated.action.kind).toBe('activate');
  return activated;
}

const groupNames = async () => (await sandbox.registry.listKeyGroups()).map((group) => group.name).sort();

describe('names with a stage', () => {
  it('keyGroupNameFor: signet-<stage>-<profile>, signet-<profile> without a stage', () => {
    expect(keyGroupNameFor('media', 'prod')).toBe('signet-prod-media');
    expect(keyGroupNameFor('media')).toBe('signet-media');
  });

  it('a key comment names the stage and the ring, and both shapes still read', () => {
    const staged = publicKeyCommentFor(PROD_SECRET, 'prod');
    expect(staged).toBe('Signet signing key; stage prod; ring signet/prod/media/key-ring');
    expect(ringTagOf(staged)).toBe(PROD_SECRET);
    expect(stageOfComment(staged)).toBe('prod');
    const old = publicKeyCommentFor(PROD_SECRET);
    expect(old).toBe('Signet signing key; ring signet/prod/media/key-ring');
    expect(ringTagOf(old)).toBe(PROD_SECRET);
    expect(stageOfComment(old)).toBeUndefined();
    // A secret id that fills the comment keeps the ring tag and leaves the stage out (128 characters).
    const long = `signet/${'x'.repeat(96)}`;
    expect(publicKeyCommentFor(long, 'prod')).toBe(`Signet signing key; ring ${long}`);
    expect(publicKeyCommentFor(long, 'prod').length).toBeLessThanOrEqual(128);
  });

  it('the config carries its stage to every profile and refuses a bad one, naming the field', () => {
    const document = {
      stage: 'prod',
      profiles: { media: { domains: ['media.example.com'], keyRing: { secretId: PROD_SECRET } } },
    };
    const parsed = parseConfig(document);
    expect(parsed.profiles.media!.stage).toBe('prod');
    // A parsed config written out (as `npm start` writes .signet/config.json) reads back the same.
    expect(parseConfig(JSON.parse(JSON.stringify(parsed)))).toEqual(parsed);
    expect(() => parseConfig({ ...document, stage: 'Prod Stage' })).toThrow(/stage/);
    const profileStage = {
      ...document,
      profiles: { media: { ...document.profiles.media, stage: 'dev' } },
    };
    expect(() => parseConfig(profileStage)).toThrow(/profiles\.media\.stage/);
  });
});

describe('two stages of profile media in one CloudFront account', () => {
  it('each bootstraps its own group signet-<stage>-media and rotates without touching the other', async () => {
    const dev = profileOf(DEV_SECRET, 'dev');
    const prod = profileOf(PROD_SECRET, 'prod');
    const devStore = await sandbox.newStore(DEV_SECRET);
    const prodStore = await sandbox.newStore(PROD_SECRET);
    const devRun = await bootstrapAndActivate(devStore, dev);
    const prodRun = await bootstrapAndActivate(prodStore, prod);
    expect(devRun.ok && prodRun.ok).toBe(true);
    expect(await groupNames()).toEqual(['signet-dev-media', 'signet-prod-media']);
    expect(devRun.keyGroupId).not.toBe(prodRun.keyGroupId);
    const keys = await sandbox.registry.listPublicKeys();
    expect(keys.map((key) => stageOfComment(key.comment)).sort()).toEqual(['dev', 'prod']);
  });

  it('a deployed ring whose group has the old name keeps it (adopted, not replaced) once its config names a stage', async () => {
    const store = await sandbox.newStore(PROD_SECRET);
    // Deployed before names carried the stage: its group is signet-media.
    const before = await bootstrapAndActivate(store, profileOf(PROD_SECRET, undefined));
    expect(await groupNames()).toEqual(['signet-media']);
    const prod = profileOf(PROD_SECRET, 'prod');
    // A whole rotation under the new naming: introduce, activate, remove.
    sandbox.clock.advance(TIMINGS.rotateEvery);
    const kinds: string[] = [];
    for (let i = 0; i < 6; i++) {
      const result = await run(store, prod);
      expect(result.ok).toBe(true);
      expect(result.keyGroupId).toBe(before.keyGroupId);
      kinds.push(result.action.kind);
      sandbox.clock.advance(TIMINGS.removal);
    }
    expect(kinds).toEqual(expect.arrayContaining(['introduce', 'activate', 'remove']));
    expect(await groupNames()).toEqual(['signet-media']);
  });

  it('a fresh bootstrap adopts an old-name group holding keys whose comment names its ring, and no other', async () => {
    // A group made under the old naming, holding one key of prod's ring (its ring was written again
    // since: the comment is what ties the key to it) ...
    const pem = () =>
      generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
        .publicKey.export({ type: 'spki', format: 'pem' })
        .toString();
    const create = (comment: string) => {
      const encodedKey = pem();
      const { fingerprint } = parseVerifyingKey(encodedKey);
      return sandbox.registry.createPublicKey({
        name: publicKeyNameFor('media', fingerprint),
        callerReference: fingerprint,
        encodedKey,
        comment,
      });
    };
    const prodKey = await create(publicKeyCommentFor(PROD_SECRET));
    const old = await sandbox.registry.createKeyGroup('signet-media', [prodKey.id]);

    // ... is not dev's: dev creates its own group and leaves the old one alone.
    const devStore = await sandbox.newStore(DEV_SECRET);
    const dev = await run(devStore, profileOf(DEV_SECRET, 'dev'));
    expect(dev).toMatchObject({ ok: true, action: { kind: 'bootstrap' } });
    expect(dev.keyGroupId).not.toBe(old.id);
    expect((await sandbox.registry.getKeyGroup(old.id)).items).toEqual([prodKey.id]);

    // prod adopts it: its new key joins the old group, and no second group appears.
    const prodStore = await sandbox.newStore(PROD_SECRET);
    const prod = await run(prodStore, profileOf(PROD_SECRET, 'prod'));
    expect(prod).toMatchObject({ action: { kind: 'bootstrap' }, keyGroupId: old.id });
    // The key its ring no longer holds is reported (it may have signed URLs), and deleted once none can be valid.
    expect(prod.newViolations.map((violation) => violation.code)).toEqual(['ORPHAN_IN_GROUP']);
    expect((await sandbox.registry.getKeyGroup(old.id)).items).toHaveLength(2);
    expect(await groupNames()).toEqual(['signet-dev-media', 'signet-media']);
  });

  it('teardown still deletes a group it created under the old name', async () => {
    const store = await sandbox.newStore(PROD_SECRET);
    const before = await bootstrapAndActivate(store, profileOf(PROD_SECRET, undefined));
    const result = await tearDownProfile({
      profileName: 'media',
      profile: profileOf(PROD_SECRET, 'prod'),
      store,
      registry: sandbox.registry,
      now: sandbox.clock.now,
    });
    expect(result).toMatchObject({ keyGroup: 'deleted', keyGroupId: before.keyGroupId });
    expect(await groupNames()).toEqual([]);
  });
});

/** Someone else's keys, made straight through the CloudFront API. */
async function handMadeKeys(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const encodedKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    await sandbox.registry.createPublicKey({
      name: `hand-made-${i}`,
      callerReference: `hand-made-${i}`,
      encodedKey,
      comment: '',
    });
  }
}

describe('the account quota, shared by every stage', () => {
  it('the planner refuses a key past it and says which stage holds how many', async () => {
    const dev = profileOf(DEV_SECRET, 'dev');
    const prod = profileOf(PROD_SECRET, 'prod');
    const devStore = await sandbox.newStore(DEV_SECRET);
    const prodStore = await sandbox.newStore(PROD_SECRET);
    await bootstrapAndActivate(devStore, dev);
    await bootstrapAndActivate(prodStore, prod);
    // Someone else's keys fill the rest of the account.
    await handMadeKeys(8);
    sandbox.clock.advance(TIMINGS.rotateEvery);
    const blocked = await run(prodStore, prod);
    expect(blocked.action).toEqual({
      kind: 'blocked',
      reason: 'account-full',
      message:
        "The account holds 10 of 10 public keys: dev 1, prod 1, other 8, CloudFront's default maximum " +
        '(shared by every stage and profile); delete one, or raise the quota in Service Quotas and set aws.publicKeyQuota in the config.',
    });
  });

  it('rotates past 10 keys once the quota is raised in CloudFront and in the config', async () => {
    await sandbox.close();
    sandbox = await startRotationSandbox({ cloudfront: { maxPublicKeys: 12 } });
    const config = parseConfig({
      stage: 'prod',
      aws: { publicKeyQuota: 12 },
      profiles: {
        media: {
          domains: ['media.example.com'],
          keyRing: { secretId: PROD_SECRET },
          grants: [],
          ttl: { default: 60, max: 300 },
          cache: { ttl: 30, maxStale: 60 },
          rotation: { rotateEvery: TIMINGS.rotateEvery, propagation: TIMINGS.propagation, clockSkew: 30 },
        },
      },
    });
    const prod = config.profiles.media!;
    expect(prod.publicKeyQuota).toBe(12);
    const store = await sandbox.newStore(PROD_SECRET);
    await bootstrapAndActivate(store, prod);
    await handMadeKeys(9);
    sandbox.clock.advance(TIMINGS.rotateEvery);
    // Ten keys in the account: the default quota would block here.
    const introduced = await run(store, prod);
    expect(introduced.action.kind).toBe('introduce');
    expect((await sandbox.registry.listPublicKeys()).length).toBe(11);
    expect((await store.load())?.ring.keys.map((key) => key.state)).toEqual(['active', 'pending']);
  });

  it('a quota set higher than CloudFront grants blocks the run with the reason, and the next run recovers', async () => {
    const prod = { ...profileOf(PROD_SECRET, 'prod'), publicKeyQuota: 12 };
    const store = await sandbox.newStore(PROD_SECRET);
    await bootstrapAndActivate(store, prod);
    await handMadeKeys(9);
    sandbox.clock.advance(TIMINGS.rotateEvery);
    // The planner believes in 12; CloudFront (the stand-in, at the default 10) refuses the 11th key.
    const blocked = await run(store, prod);
    expect(blocked.action).toMatchObject({ kind: 'blocked', reason: 'quota-exceeded' });
    expect(blocked.action.kind === 'blocked' && blocked.action.message).toContain(
      'The account holds 10 of 12',
    );
    expect((await sandbox.registry.listPublicKeys()).length).toBe(10);
    const hand = (await sandbox.registry.listPublicKeys()).find((key) => key.name === 'hand-made-0')!;
    await sandbox.registry.deletePublicKey(hand.id);
    // The refused run had recorded its pending key first (docs/design.md, "Rotation"): the next run
    // registers that same key, now that there is room.
    const next = await run(store, prod);
    expect(next.action.kind).toBe('register-pending');
    expect((await sandbox.registry.listPublicKeys()).length).toBe(10);
    expect((await store.load())?.ring.keys.map((key) => key.state)).toEqual(['active', 'pending']);
  });

  it('counts keys by comment, by ring, and by the stage in the holding group’s name', () => {
    const key = (id: string, name: string, comment?: string) => ({
      id,
      name,
      encodedKey: '',
      createdTime: '2026-11-22T12:00:00.000Z',
      ...(comment === undefined ? {} : { comment }),
    });
    const signetName = (n: number) => `signet-media-${String(n).padStart(16, 'A')}`;
    const count = countAccountKeys(
      [
        key('K1', signetName(1), publicKeyCommentFor(DEV_SECRET, 'dev')),
        key('K2', signetName(2), publicKeyCommentFor(PROD_SECRET)), // old comment: prod's ring says prod
        key('K3', signetName(3)), // in signet-qa-media
        key('K4', signetName(4)), // in signet-media: nothing says which stage
        key('K5', 'cloudfront-by-hand'),
      ],
      [
        { id: 'G1', name: 'signet-qa-media', items: ['K3'] },
        { id: 'G2', name: 'signet-media', items: ['K4'] },
      ],
      [{ stage: 'prod', secretId: PROD_SECRET, keyIds: [] }],
    );
    expect(describeAccountKeys(count)).toBe('dev 1, prod 1, qa 1, unstaged 1, other 1');
    expect(count.total).toBe(5);
  });
});
