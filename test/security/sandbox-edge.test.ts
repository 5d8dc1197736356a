import { describe, expect, it } from 'vitest';
import { startLocalService } from '../../infra/local/service.ts';
import { silentLog } from '../../lib/telemetry/ports.ts';
import { tempDir } from '../support/cli.ts';

// The sandbox edge judges the address the request came from, as CloudFront judges the viewer's:
// an `X-Forwarded-For` anyone can send must not satisfy an IP-restricted policy, unless the
// sandbox was started with the explicit option that says it trusts the header.

async function outcome(trustForwardedFor: boolean): Promise<number> {
  const service = await startLocalService({
    stateDir: tempDir(), // the demo origin's files are written there
    portBase: 0,
    edgePropagationMs: 0,
    log: silentLog,
    ...(trustForwardedFor ? { trustForwardedFor } : {}),
  });
  try {
    const token = await service.issuer.issue({ sub: 'demo', scope: ['demo:read'] });
    const response = await fetch(`${service.endpoints.api}/v1/signed-urls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ url: service.demoUrl, ipAddress: '10.1.2.0/24', expiresIn: 60 }),
    });
    expect(response.status).toBe(200);
    const { urls } = (await response.json()) as { urls: { url: string }[] };
    return (await fetch(urls[0]!.url, { headers: { 'x-forwarded-for': '10.1.2.3' } })).status;
  } finally {
    await service.close();
  }
}

describe('the sandbox edge and X-Forwarded-For', () => {
  it('ignores the header by default: a policy for 10.1.2.0/24 refuses the loopback viewer', async () => {
    expect(await outcome(false)).toBe(403);
  });

  it('takes the viewer address from it only when started with trustForwardedFor', async () => {
    expect(await outcome(true)).toBe(200);
  });
});
