import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { escapeControl } from '../../lib/cli/io.ts';
import { runCli, tempDir } from '../support/cli.ts';

// Text from outside (a URL's policy, a key name, an error message that quotes input) reaches the
// operator's terminal. Escape sequences in it must arrive as visible text, never act: no screen
// clear, no fake colours, no OSC 52 clipboard write.

/** CloudFront's URL-safe base64 (`+`→`-`, `=`→`_`, `/`→`~`). */
const cloudfrontBase64 = (text: string) =>
  Buffer.from(text).toString('base64').replace(/\+/g, '-').replace(/=/g, '_').replace(/\//g, '~');

const HOSTILE = '\u001b[2J\u001b]52;c;aGVsbG8=\u0007\u009b31m\r';
/** Any control character a terminal would act on (tab and newline are text). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point.
const ACTIVE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/u;

describe('what signet prints to a terminal', () => {
  it('escapes control characters as visible \\xNN text, keeping tab and newline', () => {
    expect(escapeControl(`a\tb\n${HOSTILE}`)).toBe('a\tb\n\\x1b[2J\\x1b]52;c;aGVsbG8=\\x07\\x9b31m\\x0d');
  });

  it('explain shows a non-JSON policy with its escape sequences defused', async () => {
    const url = `https://media.example.com/a.txt?Policy=${cloudfrontBase64(`not json ${HOSTILE}`)}&Signature=${cloudfrontBase64('x'.repeat(64))}&Key-Pair-Id=K2JCJMDEHXQW5F`;
    const keys = tempDir();
    expect((await runCli(['keygen', '--out', keys])).code).toBe(0);
    const run = await runCli([
      'explain',
      url,
      '--public-key-file',
      join(keys, 'public.pem'),
      '--key-pair-id',
      'K2JCJMDEHXQW5F',
    ]);
    const output = run.stdout + run.stderr;
    expect(output).toContain('\\x1b[2J');
    expect(output).not.toMatch(ACTIVE);
  });

  it('error messages that quote the input are escaped too', async () => {
    const run = await runCli([
      'sign',
      '--key-file',
      `/nonexistent/${HOSTILE}`,
      '--key-pair-id',
      'K2JCJMDEHXQW5F',
      '--url',
      'https://media.example.com/a',
      '--expires-in',
      '60',
    ]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('\\x1b]52');
    expect(run.stdout + run.stderr).not.toMatch(ACTIVE);
  });
});
