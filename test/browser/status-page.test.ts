import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../lib/cli/io.ts';
import { start } from '../../lib/cli/start.ts';
import { serveStatus } from '../../lib/cli/status.ts';
import { readConfig } from '../../lib/config/index.ts';
import { findChromium, launchChromium, reportNoBrowser, type TestBrowser } from '../support/browser.ts';
import { runCli, tempDir } from '../support/cli.ts';

// Issue 17: the status page of `npm start`'s demo profile in a real browser (Debian's Chromium via
// playwright-core). `start` runs in-process as `npm start` does and prints the page's link; a
// rotation is driven with `signet rotate` against the same sandbox, and the page must show it
// without a reload. A screenshot is written to test-results/status-page.png (its path is printed)
// for a person to look at. Without Chromium the suite is one passing test that prints how to install it.

const executable = findChromium();
const SCREENSHOT = resolve(import.meta.dirname, '..', '..', 'test-results', 'status-page.png');

if (executable === undefined) {
  describe('the status page in a real browser', () => {
    it('needs Chromium, which is not installed here', () => {
      reportNoBrowser();
      expect(findChromium()).toBeUndefined();
    });
  });
} else {
  const chromiumPath = executable;
  let browser: TestBrowser;
  let stopped: Promise<number>;
  const controller = new AbortController();
  let out = '';
  let configFile: string;
  let statusUrl: string;

  beforeAll(async () => {
    browser = await launchChromium(chromiumPath);
    const stateDir = tempDir();
    configFile = join(stateDir, '.signet', 'config.json');
    const io: CliIo = {
      stdout: (text) => {
        out += text;
      },
      stderr: () => undefined,
      env: {},
      cwd: stateDir,
      now: () => Math.floor(Date.now() / 1000),
    };
    stopped = start(['--port-base', '0', '--edge-propagation', '0'], io, controller.signal);
    for (let attempt = 0; attempt < 600 && !out.includes('Press Ctrl-C'); attempt++)
      await new Promise((done) => setTimeout(done, 50));
    statusUrl = /Status page {7}(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1] ?? '';
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    controller.abort();
    await stopped;
  });

  const signet = (...args: string[]) => runCli([...args, '--config', configFile]);

  /** The demo profile's active key id, as `signet keys --json` reads it. */
  async function activeKey(): Promise<string> {
    const run = await signet('keys', '--json');
    expect(run.stderr).toBe('');
    const listing = JSON.parse(run.stdout) as {
      keys: { id: string; state: string }[];
    };
    return listing.keys.find((key) => key.state === 'active')!.id;
  }

  async function dataset(page: Page, name: string): Promise<string | null> {
    return page.getAttribute('#status', `data-${name}`);
  }

  describe('the status page in Chromium: npm start links to it, and it follows a rotation live', () => {
    it('renders the demo profile: its active key on the timeline, the gauges, the next transition, doctor', async () => {
      expect(statusUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const page = await browser.context.newPage();
      page.setDefaultTimeout(10_000);
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      await page.goto(statusUrl);
      const active = await activeKey();
      expect(await dataset(page, 'active')).toBe(active);
      expect(await page.textContent('#active-key')).toBe(active);
      await page.waitForSelector(
        `#timeline g.row[data-key-id="${active}"][data-state="active"] rect.seg-active`,
      );
      expect(await page.textContent(`#keys tr[data-key-id="${active}"]`)).toContain('active');
      expect(await page.getAttribute('#group-gauge', 'aria-label')).toBe('1 of 5 key group slots used');
      expect(await page.textContent('#account-gauge + p')).toContain('of 10');
      expect(await page.textContent('#next')).toContain('introduce a new key');
      expect(await page.textContent('#findings')).not.toBe('');
      // The script ran (relative times filled in) and the CSP refused nothing the page needs.
      await page.waitForSelector('#next .rel:not(:empty)');
      expect(problems).toEqual([]);
      await page.close();
    });

    it('a rotation driven by signet rotate appears without a reload: pending, then the new key active and the old one retiring', async () => {
      const page = await browser.context.newPage();
      page.setDefaultTimeout(10_000);
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      let navigations = 0;
      page.on('framenavigated', (frame) => {
        if (frame === page.mainFrame()) navigations++;
      });
      await page.goto(statusUrl);
      expect(navigations).toBe(1);
      const old = await activeKey();
      expect(await dataset(page, 'active')).toBe(old);

      const started = await signet('rotate', '--start', '--json');
      expect(started.code).toBe(0);
      const pending = (JSON.parse(started.stdout) as { pendingKeyId: string }).pendingKeyId;
      await page.waitForSelector(`#timeline g.row[data-key-id="${pending}"][data-state="pending"]`, {
        timeout: 15_000,
      });
      await page.waitForSelector(`#next[data-kind="activate"]`);
      expect(await page.getAttribute('#group-gauge', 'aria-label')).toBe('2 of 5 key group slots used');
      expect(await page.textContent('#events')).toContain(`key ${pending} appeared (pending)`);

      // The propagation wait (2 s here) passes; the next run activates the pending key.
      for (let attempt = 0; attempt < 60 && (await activeKey()) !== pending; attempt++) {
        await signet('rotate');
        await new Promise((done) => setTimeout(done, 250));
      }
      await page.waitForSelector(`#status[data-active="${pending}"]`, { timeout: 15_000 });
      await page.waitForSelector(
        `#timeline g.row[data-key-id="${old}"][data-state="retiring"] rect.seg-retiring`,
      );
      await page.waitForSelector(`#timeline g.row[data-key-id="${old}"] rect.mark-bound`);
      expect(await page.textContent('#next')).toContain(`remove the retiring key from the group ${old}`);
      const events = await page.textContent('#events');
      expect(events).toContain(`active key: ${pending} (was ${old})`);
      expect(events).toContain(`key ${old}: active -> retiring`);
      expect(navigations).toBe(1);
      expect(problems).toEqual([]);

      mkdirSync(resolve(SCREENSHOT, '..'), { recursive: true });
      await page.setViewportSize({ width: 1400, height: 1000 });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(readFileSync(SCREENSHOT).subarray(1, 4).toString()).toBe('PNG');
      process.stderr.write(
        `Status page screenshot (after a rotation, for a person to look at): ${SCREENSHOT}\n`,
      );
      await page.close();
    });

    it('says why when the live state cannot be read (AWS or the sandbox down), and keeps polling', async () => {
      const config = readConfig(configFile, process.cwd());
      const dead = {
        ...config,
        aws: {
          ...config.aws,
          endpoints: { secretsManager: 'http://127.0.0.1:9', cloudfront: 'http://127.0.0.1:9' },
        },
      };
      const down = await serveStatus({
        config: dead,
        profileName: 'demo',
        port: 0,
        intervalSeconds: 1,
        io: { now: () => Math.floor(Date.now() / 1000), stderr: () => undefined },
      });
      try {
        const page = await browser.context.newPage();
        page.setDefaultTimeout(10_000);
        await page.goto(down.url);
        expect(await page.textContent('.unavailable')).toContain(
          'Could not read the live configuration from Secrets Manager at http://127.0.0.1:9',
        );
        await page.waitForSelector('#banner:not([hidden])');
        expect(await page.textContent('#banner')).toContain('Could not read the live state');
        await page.close();
      } finally {
        await down.close();
      }
    });
  });
}
