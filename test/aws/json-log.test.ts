// The API's log lines are the lines the Powertools Logger writes for the same calls (timestamps aside).
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JsonLog } from '../../lib/aws/json-log.ts';
import type { Log } from '../../lib/telemetry/ports.ts';

type Line = { stream: 'stdout' | 'stderr'; json: Record<string, unknown> };

function capture(run: () => Promise<void>): Promise<Line[]> {
  const lines: Line[] = [];
  const spy = (stream: 'stdout' | 'stderr') =>
    vi.spyOn(process[stream], 'write').mockImplementation((chunk) => {
      for (const text of String(chunk).split('\n')) if (text !== '') lines.push(parsed(text, stream));
      return true;
    });
  const spies = [spy('stdout'), spy('stderr')];
  return run()
    .then(() => lines)
    .finally(() => {
      for (const s of spies) s.mockRestore();
    });
}

function parsed(text: string, stream: 'stdout' | 'stderr'): Line {
  const json = JSON.parse(text) as Record<string, unknown>;
  expect(Math.abs(Date.parse(json.timestamp as string) - Date.now())).toBeLessThan(60_000);
  json.timestamp = 'T';
  return { stream, json };
}

const contextOf = (id: string) =>
  ({
    awsRequestId: id,
    functionName: 'signet-api',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:signet-api',
    memoryLimitInMB: '1024',
    getRemainingTimeInMillis: () => 10_000,
  }) as unknown as Context;

/** The API's calls: a line before any invocation (init), then two invocations. */
async function script(log: Log, invoke: (id: string, body: () => void) => Promise<void>): Promise<void> {
  log.info('warmed', { ms: 12 });
  await invoke('req-1', () => {
    log.info('signature issued', {
      audit: true,
      requestId: 'req-1',
      caller: 'user "x"',
      count: 1,
      resources: ['https://media.example.com/a.mp4'],
      resource: undefined,
      sourceIp: '',
      empty: null,
      expires: 1_900_000_000,
      nested: { a: 1, b: undefined },
    });
    log.warn('key ring refresh failed', { profile: 'media', error: 'timeout' });
  });
  await invoke('req-2', () => {
    log.error('request failed', { requestId: 'req-2', error: { name: 'Error', message: 'boom' } });
    log.info('no fields');
  });
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('JsonLog', () => {
  it('writes the lines the Powertools Logger writes (keys, order, streams, empty fields left out, cold start)', async () => {
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'INFO');
    vi.stubEnv('POWERTOOLS_DEV', '');
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
    vi.stubEnv(
      '_X_AMZN_TRACE_ID',
      'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=557abcec3ee5a047;Sampled=1',
    );
    const logger = new Logger({ serviceName: 'signet-api' });
    const powertools: Log = {
      info: (message, fields) => logger.info(message, { ...fields }),
      warn: (message, fields) => logger.warn(message, { ...fields }),
      error: (message, fields) => logger.error(message, { ...fields }),
    };
    const expected = await capture(() =>
      script(powertools, async (id, body) => {
        await middy(async () => body()).use(injectLambdaContext(logger))({}, contextOf(id));
      }),
    );
    const ours = new JsonLog({ serviceName: 'signet-api' });
    const actual = await capture(() =>
      script(ours, async (id, body) => {
        ours.setContext(contextOf(id));
        body();
      }),
    );
    expect(expected.length).toBe(5);
    expect(actual).toEqual(expected);
    // Key order too (toEqual ignores it).
    expect(actual.map((l) => Object.keys(l.json))).toEqual(expected.map((l) => Object.keys(l.json)));
  });

  it('writes nothing below POWERTOOLS_LOG_LEVEL, and serializes an Error with its name, message and stack', () => {
    const lines: string[] = [];
    const write = (line: string) => lines.push(line);
    const silent = new JsonLog({ serviceName: 's', env: { POWERTOOLS_LOG_LEVEL: 'SILENT' }, write });
    silent.error('x');
    const warnOnly = new JsonLog({ serviceName: 's', env: { POWERTOOLS_LOG_LEVEL: 'warn' }, write });
    warnOnly.info('dropped');
    // A field named like a key of the line is dropped, as Powertools drops it (with a warning line).
    warnOnly.warn('kept', { error: new TypeError('bad'), message: 'not the message', level: 'x' });
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as { message: string; error: Record<string, string> };
    expect(line.message).toBe('kept');
    expect(lines[0]!.match(/"level"/g)).toHaveLength(1);
    expect(line.error).toMatchObject({ name: 'TypeError', message: 'bad' });
    expect(line.error.stack).toContain('TypeError: bad');
  });

  it('reports no cold start under provisioned concurrency, as Powertools does', () => {
    const lines: string[] = [];
    const log = new JsonLog({
      serviceName: 's',
      env: { AWS_LAMBDA_INITIALIZATION_TYPE: 'provisioned-concurrency' },
      write: (line) => lines.push(line),
    });
    log.setContext(contextOf('a'));
    log.info('x');
    expect(JSON.parse(lines[0]!)).toMatchObject({ cold_start: false, function_request_id: 'a' });
  });
});
