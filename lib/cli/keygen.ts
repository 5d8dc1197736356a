import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  renameSync,
  type Stats,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fingerprintOf, publicKeyPem } from '../signing/index.ts';
import { type CliIo, EnvironmentError, EXIT, UsageError } from './io.ts';

export const KEYGEN_HELP = `Usage: signet keygen [--algorithm ecdsa-p256|rsa-2048] --out DIR [--force]

Generates a CloudFront signing key pair:
  DIR/private.pem   the private key (PKCS#8, file mode 0600): keep it secret, give it to the signer
  DIR/public.pem    the public key (SPKI): upload it to CloudFront and add it to a key group
and prints the public key's fingerprint.

Options:
  --algorithm A   ecdsa-p256 (default: about 10x cheaper to sign, shorter URLs) or rsa-2048
  --out DIR       where to write the two files (created if missing)
  --force         overwrite existing key files (only your own regular files: keygen never
                  writes through a symbolic link, into another user's file, or into a folder
                  others may write; each file is written to a new file and renamed into place)
  --json          print { "fingerprint", "algorithm", "privateKeyFile", "publicKeyFile" }
`;

/** `signet keygen`: writes a new key pair and prints its fingerprint. */
export function keygen(args: string[], io: CliIo): number {
  const { values } = parseArgs({
    args,
    options: {
      algorithm: { type: 'string', default: 'ecdsa-p256' },
      out: { type: 'string' },
      force: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.algorithm !== 'ecdsa-p256' && values.algorithm !== 'rsa-2048') {
    throw new UsageError(`Expected --algorithm ecdsa-p256 or rsa-2048; got ${values.algorithm}.`);
  }
  if (values.out === undefined)
    throw new UsageError('Expected --out DIR: where to write private.pem and public.pem.');
  const dir = resolve(io.cwd, values.out);
  const privateFile = join(dir, 'private.pem');
  const publicFile = join(dir, 'public.pem');
  for (const file of [privateFile, publicFile]) checkTarget(file, values.force);
  const { privateKey, publicKey } =
    values.algorithm === 'rsa-2048'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    checkFolder(dir);
    writeThroughRename(privateFile, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600);
    writeThroughRename(publicFile, publicKeyPem(publicKey), 0o644);
  } catch (cause) {
    if (cause instanceof UsageError) throw cause;
    throw new EnvironmentError(`Could not write the key files to ${dir}: ${(cause as Error).message}`, {
      cause,
    });
  }
  const fingerprint = fingerprintOf(publicKey);
  if (values.json) {
    io.stdout(
      `${JSON.stringify({ fingerprint, algorithm: values.algorithm, privateKeyFile: privateFile, publicKeyFile: publicFile })}\n`,
    );
  } else {
    io.stdout(`${fingerprint}\n`);
    io.stderr(`Wrote ${privateFile} (keep secret) and ${publicFile} (upload to CloudFront).\n`);
  }
  return EXIT.ok;
}

/** The file's own entry (a symlink is not followed), or `undefined` when nothing is there. */
function entryOf(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Whether this process's user owns the entry (always true where uids do not exist). */
function ownedByMe(stats: Stats): boolean {
  return process.getuid === undefined || stats.uid === process.getuid();
}

/**
 * Refuses a key file target that is a symlink (even a dangling one: it would send the key wherever
 * it points), that is not a regular file, that another user owns (its owner could read the key), or
 * that exists without --force.
 */
function checkTarget(file: string, force: boolean): void {
  const stats = entryOf(file);
  if (stats === undefined) return;
  if (stats.isSymbolicLink()) {
    throw new UsageError(
      `Expected ${file} not to be a symbolic link; keygen never writes a key through one.`,
    );
  }
  if (!stats.isFile()) throw new UsageError(`Expected ${file} to be a regular file or absent; it is not.`);
  if (!ownedByMe(stats)) {
    throw new UsageError(
      `Expected ${file} to belong to you; another user owns it, so keygen will not replace it.`,
    );
  }
  if (!force) {
    throw new UsageError(
      `Expected an empty --out; ${dirname(file)} already holds a key (pass --force to overwrite it).`,
    );
  }
}

/** Refuses a folder another user owns or may write to: it could swap or read the files in it. */
function checkFolder(dir: string): void {
  const stats = lstatSync(dir);
  if (stats.isSymbolicLink() || !stats.isDirectory()) {
    throw new UsageError(`Expected --out ${dir} to be a folder, not a symbolic link.`);
  }
  if (!ownedByMe(stats))
    throw new UsageError(`Expected --out ${dir} to belong to you; another user owns it.`);
  // Others who may write the folder could replace the key between its write and its use.
  if ((stats.mode & 0o022) !== 0 && (stats.mode & 0o1000) === 0) {
    throw new UsageError(`Expected --out ${dir} to be writable only by you; others may write to it.`);
  }
}

/**
 * Writes `text` to a new file beside `file` (created exclusively, never through a symlink, with
 * `mode` from the first byte), syncs it, then renames it over `file`: a reader sees the old file or
 * the whole new one, and the key never sits in a file with other permissions.
 */
function writeThroughRename(file: string, text: string, mode: number): void {
  const temporary = join(dirname(file), `.${randomBytes(8).toString('hex')}.tmp`);
  const fd = openSync(
    temporary,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    mode,
  );
  try {
    fchmodSync(fd, mode); // the umask may have narrowed the public key's mode; never widened
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(temporary);
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temporary, file);
  } catch (error) {
    unlinkSync(temporary);
    throw error;
  }
}
