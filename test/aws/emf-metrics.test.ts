// The API's EMF lines are the lines Powertools writes for the same counts (timestamps aside).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EmfMetrics, metricsDisabled } from '../../lib/aws/emf-metrics.ts';
import { PowertoolsMetrics } from '../../lib/aws/powertools-metrics.ts';

function captureStdout(run: () => void): string[] {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    run();
  } finally {
    spy.mockRestore();
  }
  return lines
    .join('')
    .split('\n')
    .filter((line) => line !== '');
}

const withoutTimestamp = (line: string) => {
  const parsed = JSON.parse(line) as { _aws: { Timestamp: number } };
  expect(Math.abs(parsed._aws.Timestamp - Date.now())).toBeLessThan(60_000);
  parsed._aws.Timestamp = 0;
  return parsed;
};

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('EmfMetrics', () => {
  it('writes the same EMF lines as PowertoolsMetrics, key order included', () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_DEV', '');
    const calls: [string, number, Record<string, string>][] = [
      ['SignaturesIssued', 1, { profile: 'media', keyId: 'K2JCJMDEHXQW5F', kind: 'url' }],
      ['SignaturesIssued', 100, { profile: 'media', keyId: 'K2JCJMDEHXQW5F', kind: 'url' }],
      ['SignaturesIssued', 1, { profile: 'media', keyId: 'K2JCJMDEHXQW5F', kind: 'cookies' }],
      ['Denials', 1, { reason: 'not-granted' }],
      ['KeyRingRefreshes', 1, { profile: 'a"b\\c' }],
    ];
    const options = { namespace: 'Signet', serviceName: 'signet-api' };
    const powertools = new PowertoolsMetrics(options);
    const expected = captureStdout(() => {
      for (const [name, value, dimensions] of calls) powertools.count(name, value, dimensions);
    });
    const emf = new EmfMetrics(options);
    const actual = captureStdout(() => {
      for (const [name, value, dimensions] of calls) emf.count(name, value, dimensions);
    });
    expect(actual).toHaveLength(calls.length);
    for (const [index, line] of actual.entries()) {
      expect(Object.keys(JSON.parse(line))).toEqual(Object.keys(JSON.parse(expected[index]!)));
      expect(withoutTimestamp(line)).toEqual(withoutTimestamp(expected[index]!));
    }
  });

  it('writes nothing when Powertools would not (POWERTOOLS_METRICS_DISABLED, else POWERTOOLS_DEV)', () => {
    expect(metricsDisabled({ POWERTOOLS_METRICS_DISABLED: 'true' })).toBe(true);
    expect(metricsDisabled({ POWERTOOLS_METRICS_DISABLED: 'false', POWERTOOLS_DEV: 'true' })).toBe(false);
    expect(metricsDisabled({ POWERTOOLS_DEV: 'yes' })).toBe(true);
    expect(metricsDisabled({})).toBe(false);
    const lines: string[] = [];
    new EmfMetrics({
      namespace: 'Signet',
      serviceName: 's',
      disabled: true,
      write: (l) => lines.push(l),
    }).count('Denials', 1, { reason: 'x' });
    expect(lines).toEqual([]);
  });

  it('refuses a value that is not a finite number, naming the metric', () => {
    const metrics = new EmfMetrics({
      namespace: 'Signet',
      serviceName: 's',
      disabled: false,
      write: () => {},
    });
    expect(() => metrics.count('Denials', Number.NaN, { reason: 'x' })).toThrow(
      /finite number for metric Denials/,
    );
  });
});
