// `npm start -- --config FILE` as a user types it in their own folder: npm runs the package's start
// script in the package folder, and FILE is still read from the folder npm was run in (INIT_CWD).
import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/cli.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

const CONFIG = `profiles:
  media:
    domains: [media.example.com]
    keyRing: { secretId: signet/npm/media/key-ring }
    grants:
      - when: { claims: { scope: media:read } }
        resources: ["http://media.example.com/videos/*"]
`;

describe('npm start -- --config FILE', () => {
  it("reads FILE relative to the user's folder, runs its profile, and leaves it unchanged", async () => {
    const home = tempDir();
    writeFileSync(join(home, 'mine.yml'), CONFIG);
    const mtimeMs = statSync(join(home, 'mine.yml')).mtimeMs;
    const state = join(home, 'state');
    const child = spawn(
      'npm',
      [
        '--prefix',
        ROOT,
        'start',
        '--',
        '--config',
        'mine.yml',
        '--json',
        '--port-base',
        '0',
        '--state-dir',
        state,
        '--edge-propagation',
        '0',
      ],
      {
        cwd: home,
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    try {
      const ready = await new Promise<{ edge: string; profiles: Record<string, { aliases: string[] }> }>(
        (done, fail) => {
          const timer = setTimeout(() => fail(new Error(`no ready line: ${stderr}`)), 60_000);
          child.once('exit', (code) => fail(new Error(`exited ${code}: ${stderr}`)));
          child.stdout.on('data', (chunk) => {
            stdout += chunk;
            const line = stdout.split('\n').find((l) => l.startsWith('{"api"'));
            if (line !== undefined && stdout.includes(`${line}\n`)) {
              clearTimeout(timer);
              done(JSON.parse(line));
            }
          });
        },
      );
      expect(ready.profiles.media?.aliases).toEqual(['media.example.com']);
      expect(readFileSync(join(state, 'config.json'), 'utf8')).toContain('signet/npm/media/key-ring');
      expect(readFileSync(join(home, 'mine.yml'), 'utf8')).toBe(CONFIG);
      expect(statSync(join(home, 'mine.yml')).mtimeMs).toBe(mtimeMs);
    } finally {
      // npm does not pass the signal on to the script it runs: stop the whole process group.
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
      await new Promise((done) => setTimeout(done, 1000));
    }
  }, 90_000);
});
