import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

/**
 * The system Chromium the browser tests drive (Debian's `chromium` package), or undefined when none
 * is installed. `SIGNET_CHROMIUM` names another binary (and only it is tried: `SIGNET_CHROMIUM=none`
 * runs the suite as on a machine without a browser). Nothing is ever downloaded.
 */
export function findChromium(): string | undefined {
  const named = process.env.SIGNET_CHROMIUM;
  const candidates = named === undefined ? ['/usr/bin/chromium', '/usr/bin/chromium-browser'] : [named];
  return candidates.find((path) => path !== '' && existsSync(path));
}

/** The one line `npm test` prints when there is no browser. */
export const NO_BROWSER_LINE =
  'Browser tests (test/browser) skipped: no Chromium found (install it: sudo apt-get install chromium; or set SIGNET_CHROMIUM to its path).';

/**
 * Prints {@link NO_BROWSER_LINE} once per test run, however many browser test files call it: each
 * vitest worker is a child of the run's process, so the first to create a marker named after that
 * process prints, the others see it and stay quiet.
 */
export function reportNoBrowser(): void {
  const marker = join(tmpdir(), `signet-no-browser-${runId()}`);
  try {
    writeFileSync(marker, '', { flag: 'wx' });
  } catch {
    return;
  }
  process.stderr.write(`${NO_BROWSER_LINE}\n`);
}

/** The test run's process: its id and, on Linux, its start time (so a reused id is another run). */
function runId(): string {
  try {
    const stat = readFileSync(`/proc/${process.ppid}/stat`, 'utf8');
    const startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return `${process.ppid}-${startTime}`;
  } catch {
    return String(process.ppid);
  }
}

/** The flags every browser test launches Chromium with: headless, no sandbox (CI runs as root), quiet. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A running Chromium with a fresh profile (its own --user-data-dir, removed on close). */
export interface TestBrowser {
  readonly context: BrowserContext;
  readonly version: string;
  close(): Promise<void>;
}

/**
 * Launches `executable` with a fresh user data dir and `extraFlags` (host resolver rules, a
 * certificate to trust). `ignoreHTTPSErrors` stays false: a test that uses HTTPS trusts its
 * certificate explicitly (`--ignore-certificate-errors-spki-list`), so Secure cookies behave as
 * they do on a real certificate.
 */
export async function launchChromium(executable: string, extraFlags: string[] = []): Promise<TestBrowser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'signet-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: executable,
    headless: true,
    args: [...CHROMIUM_FLAGS, ...extraFlags],
  });
  const version = context.browser()?.version() ?? 'unknown';
  return {
    context,
    version,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
