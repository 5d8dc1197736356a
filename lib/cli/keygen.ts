import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
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
  --force         overwrite existing key files
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
  if (!values.force && (existsSync(privateFile) || existsSync(publicFile))) {
    throw new UsageError(
      `Expected an empty --out; ${dir} already holds a key (pass --force to overwrite it).`,
    );
  }
  const { privateKey, publicKey } =
    values.algorithm === 'rsa-2048'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(privateFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    // `mode` applies only when the file is created: an existing private.pem overwritten with --force
    // keeps its old permissions unless they are set again.
    chmodSync(privateFile, 0o600);
    writeFileSync(publicFile, publicKeyPem(publicKey), { mode: 0o644 });
  } catch (cause) {
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
