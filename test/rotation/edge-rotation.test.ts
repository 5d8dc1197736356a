import { CreateDistributionCommand } from '@aws-sdk/client-cloudfront';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSigningKey, signUrl } from '../../lib/signing/index.ts';
import { startEdgeWithFile } from '../support/edge.ts';
import { type CycleContext, rotate } from '../support/rotation-cycle.ts';
import {
  HandClock,
  type RotationSandbox,
  startRotationSandbox,
  TIMINGS,
  testProfile,
} from '../support/rotation-sandbox.ts';

// The point of the rotator: across rotations, every URL signed with the ring's active key is
// accepted by the edge, and stays accepted until it expires. The edge applies key group changes
// EDGE_DELAY after they are made; the profile waits rotation.propagation (120 s) > EDGE_DELAY (60 s).

const EDGE_DELAY_S = 60;
const FILE = 'rotated content\n';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function setUp(name: string) {
  const clock = new HandClock();
  const sandbox: RotationSandbox = await startRotationSandbox({ clock });
  closers.push(() => sandbox.close());
  const edge = await startEdgeWithFile(sandbox, EDGE_DELAY_S, FILE);
  closers.push(() => edge.close());
  const context: CycleContext = {
    profileName: name,
    profile: testProfile(),
    store: await sandbox.newStore(`signet/${name}`),
    registry: sandbox.registry,
    clock,
  };
  return { clock, sandbox, edge, context };
}

async function trustGroup(sandbox: RotationSandbox, keyGroupId: string) {
  await sandbox.clients.cloudfront.send(
    new CreateDistributionCommand({
      DistributionConfig: {
        CallerReference: `edge-rotation-${keyGroupId}`,
        Comment: 'rotation',
        Enabled: true,
        Origins: { Quantity: 1, Items: [{ Id: 'origin', DomainName: 'origin.example' }] },
        DefaultCacheBehavior: {
          TargetOriginId: 'origin',
          ViewerProtocolPolicy: 'allow-all',
          TrustedKeyGroups: { Enabled: true, Quantity: 1, Items: [keyGroupId] },
        },
      },
    }),
  );
}

/** Signs the file's URL with the ring's active key, for `ttl` seconds, as a signer would. */
async function signWithActive(context: CycleContext, edgeUrl: string, ttl = 300): Promise<string> {
  const ring = (await context.store.load())!.ring;
  const active = ring.keys.find((key) => key.state === 'active')!;
  const now = Math.floor(context.clock.millis() / 1000);
  return signUrl({
    url: `${edgeUrl}/private/file.txt`,
    key: parseSigningKey(active.privateKey!),
    keyPairId: active.id!,
    hash: active.hash,
    expires: now + ttl,
    now,
  }).url;
}

async function statusOf(url: string): Promise<{ status: number; code: string | undefined }> {
  const response = await fetch(url);
  const body = await response.text();
  return { status: response.status, code: /<Code>([^<]+)<\/Code>/.exec(body)?.[1] };
}

describe('rotation seen through the sandbox edge', () => {
  it('never answers 403 across three rotations when activation waits for propagation', async () => {
    const { clock, sandbox, edge, context } = await setUp('edge');
    const boot = await rotate(context);
    await trustGroup(sandbox, boot.keyGroupId!);
    clock.advance(TIMINGS.propagation);
    expect((await rotate(context)).action.kind).toBe('activate');

    /** Every URL signed so far that has not expired yet. */
    const outstanding: { url: string; expires: number }[] = [];
    const statuses: number[] = [];
    const step = async (seconds: number, expected?: string) => {
      clock.advance(seconds);
      const result = await rotate(context);
      expect(result.ok).toBe(true);
      if (expected !== undefined) expect(result.action.kind).toBe(expected);
      outstanding.push({ url: await signWithActive(context, edge.url), expires: clock.millis() + 300_000 });
      for (const { url, expires } of outstanding) {
        if (expires <= clock.millis()) continue;
        const { status } = await statusOf(url);
        statuses.push(status);
      }
    };
    await step(0);
    for (let rotation = 0; rotation < 3; rotation++) {
      await step(TIMINGS.rotateEvery, 'introduce');
      await step(TIMINGS.propagation / 2);
      await step(TIMINGS.propagation / 2, 'activate');
      await step(1);
      await step(TIMINGS.removal, 'remove');
    }
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
  });

  it('does see 403 InvalidKey when activation does not wait for propagation (the test can fail)', async () => {
    const { clock, sandbox, edge, context } = await setUp('hasty');
    const boot = await rotate(context);
    await trustGroup(sandbox, boot.keyGroupId!);
    clock.advance(TIMINGS.propagation);
    await rotate(context);
    expect(await statusOf(await signWithActive(context, edge.url))).toEqual({ status: 200, code: undefined });

    clock.advance(TIMINGS.rotateEvery);
    expect((await rotate(context)).action.kind).toBe('introduce');
    clock.advance(1);
    const hasty = await rotate(context, { testOnly: { activateWithoutPropagation: true } });
    expect(hasty.action.kind).toBe('activate');
    // Reported, though only as a warning under the test-only switch.
    expect(hasty.violations).toEqual([
      expect.objectContaining({ code: 'ACTIVE_NOT_PROPAGATED', severity: 'warning' }),
    ]);
    expect(await statusOf(await signWithActive(context, edge.url))).toEqual({
      status: 403,
      code: 'InvalidKey',
    });
    // Once the edge has the key, the same kind of URL works: it was the timing.
    clock.advance(EDGE_DELAY_S);
    expect(await statusOf(await signWithActive(context, edge.url))).toEqual({ status: 200, code: undefined });
  });
});
