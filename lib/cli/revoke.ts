import { parseArgs } from 'node:util';
import { planRevoke, type RevokePlan, revokeKey } from '../rotation/revoke.ts';
import { observe, stateOf } from '../rotation/rotator.ts';
import { type CliIo, EXIT, UsageError } from './io.ts';
import { rotationPorts, runRotationCommand, stderrLog, withRotationErrors } from './rotate.ts';

/** `signet revoke --help`. */
export const REVOKE_HELP = `Usage: signet revoke KEY_ID [--profile P] --yes [--json] [--config FILE]

Emergency: takes a key out of service now (docs/design.md, "Rotation"). The key leaves the key ring (into its history
with revokedAt), then the key group, then CloudFront. If it was the active key, the newest pending
key that has propagated takes over (else the newest retiring key); if none can, a new key is
introduced and signing stops (the API answers 503) until it has propagated.

URLs and cookies the key signed fail with 403 from then on, until they expire: the command says
which (signed from its activation until it stopped signing, plus cache.maxStale for signers holding
a cached ring) and until when (plus ttl.max and rotation.clockSkew).

Without --yes nothing changes: it says what would happen and exits 2.

Options:
  --profile P     the profile (default: the config's defaultProfile, or its only profile)
  --yes           do it
  --json          print one document { "profile", "keyId", "previousState", "activatedKeyId",
                  "signing": { "stops", "resumesAt" }, "exposure": { "signedFrom", "signedUntil",
                  "failingUntil" }, "done", ... }
  --config FILE   the Signet config (default: SIGNET_CONFIG, else .signet/config.json)

Exit status: 0 revoked, 1 refused (a key Signet does not know, a quota, other writers), 2 usage
error or no --yes, 3 environment error (AWS or the sandbox unreachable, credentials refused, config
invalid).
`;

/** `signet revoke KEY_ID --yes`: take a key out of the group and the ring now. */
export async function revoke(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      profile: { type: 'string' },
      yes: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      config: { type: 'string' },
    },
    strict: true,
  });
  if (positionals.length !== 1) {
    throw new UsageError(
      `Expected one KEY_ID (a CloudFront public key id; \`signet keys\` lists them); got ${positionals.length === 0 ? 'none' : positionals.join(' ')}.`,
    );
  }
  const keyId = positionals[0]!;
  const ports = rotationPorts(values, io);
  const now = () => new Date(io.now() * 1000);
  return runRotationCommand('revoke', ports, io, async () => {
    if (!values.yes) {
      const plan = await withRotationErrors(ports.config, async () =>
        planRevoke(stateOf(ports, await observe(ports), now()), keyId),
      );
      if (values.json)
        io.stdout(`${JSON.stringify({ ...revokeJson(ports.profileName, plan), done: false })}\n`);
      io.stderr(
        `signet revoke: nothing changed. Would revoke ${keyId} of profile ${ports.profileName}:\n` +
          `${describePlan(plan, 'would').join('\n')}\nPass --yes to do it.\n`,
      );
      return EXIT.usage;
    }
    const result = await withRotationErrors(ports.config, () =>
      revokeKey({
        profileName: ports.profileName,
        profile: ports.profile,
        store: ports.store,
        registry: ports.registry,
        kms: ports.kms,
        now,
        log: stderrLog(io),
        keyId,
      }),
    );
    const errors = result.violations.filter((violation) => violation.severity === 'error');
    if (values.json) {
      io.stdout(
        `${JSON.stringify({
          ...revokeJson(ports.profileName, result.plan),
          done: true,
          activeKeyId: result.activeKeyId ?? null,
          pendingKeyId: result.pendingKeyId ?? null,
          violations: result.violations,
        })}\n`,
      );
    } else {
      const lines = [
        `Revoked ${keyId} of profile ${ports.profileName}:`,
        ...describePlan(result.plan, 'did'),
      ];
      if (result.plan.signing.stops && result.pendingKeyId !== undefined)
        lines.push(`  replacement key: ${result.pendingKeyId} (pending; the rotator activates it)`);
      for (const violation of result.violations)
        lines.push(`  ${violation.severity}: ${violation.code}: ${violation.message}`);
      io.stdout(`${lines.join('\n')}\n`);
    }
    return errors.length === 0 ? EXIT.ok : EXIT.denied;
  });
}

function revokeJson(profile: string, plan: RevokePlan) {
  const iso = (date: Date | undefined) => date?.toISOString() ?? null;
  return {
    profile,
    keyId: plan.keyId,
    fingerprint: plan.fingerprint,
    previousState: plan.previousState,
    activatedKeyId: plan.activate?.keyId ?? null,
    inGroup: plan.inGroup,
    introduce: plan.introduce,
    signing: { stops: plan.signing.stops, resumesAt: iso(plan.signing.resumesAt) },
    exposure: {
      signedFrom: iso(plan.exposure.signedFrom),
      signedUntil: iso(plan.exposure.signedUntil),
      failingUntil: iso(plan.exposure.failingUntil),
    },
  };
}

/** The plan in plain words: what changes, who signs next, which outstanding URLs fail and until when. */
function describePlan(plan: RevokePlan, mood: 'would' | 'did'): string[] {
  const verb = (would: string, did: string) => (mood === 'would' ? would : did);
  const lines: string[] = [];
  if (plan.nextRing !== undefined) {
    lines.push(
      `  ${verb('leave', 'left')} the key ring (it was ${plan.previousState}; kept in history with revokedAt)`,
    );
  } else {
    lines.push(`  the key ring already records it as ${plan.previousState}`);
  }
  lines.push(
    plan.inGroup || plan.registered
      ? `  ${verb('leave', 'left')} the key group and CloudFront (public key ${verb('deleted', 'deleted')})`
      : '  already out of the key group and CloudFront',
  );
  if (plan.activate !== undefined) {
    lines.push(
      `  ${plan.activate.keyId} (${plan.activate.wasState}, propagated) ${verb('becomes', 'became')} the active key`,
    );
  }
  if (plan.signing.stops) {
    const until = plan.signing.resumesAt?.toISOString() ?? 'a new key has propagated';
    lines.push(
      `  SIGNING STOPS: no other key is trusted by the edges. The API answers 503 until ` +
        `${plan.introduce ? `a new key ${verb('is', 'was')} introduced and ` : ''}${plan.signing.waitingForKeyId ?? 'it'} has propagated, ` +
        `at the earliest ${until}.`,
    );
  }
  const { signedFrom, signedUntil, failingUntil } = plan.exposure;
  if (signedFrom === undefined || signedUntil === undefined || failingUntil === undefined) {
    lines.push(
      plan.previousState === 'pending'
        ? '  outstanding URLs: none fail (a pending key never signed)'
        : '  outstanding URLs: none fail (everything it signed has expired)',
    );
  } else {
    lines.push(
      `  outstanding URLs and cookies signed by ${plan.keyId} between ${signedFrom.toISOString()} and ` +
        `${signedUntil.toISOString()} (signers may hold a cached ring that long) ${verb('will fail', 'fail')} ` +
        `with 403 until they expire, at the latest ${failingUntil.toISOString()}.`,
    );
  }
  return lines;
}
