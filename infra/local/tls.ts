import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The local HTTPS material of `signet start --https`: a CA the user trusts once, and the servers' certificate. */
export interface LocalTls {
  /** The CA certificate (PEM) to hand to `curl --cacert` or a browser's trust store. */
  readonly caFile: string;
  /** The server certificate (PEM), signed by the CA, for {@link names}. */
  readonly cert: string;
  /** The server's private key (PEM). Never logged. */
  readonly key: string;
  /** The host names and addresses the server certificate covers. */
  readonly names: readonly string[];
  /**
   * Base64 SHA-256 of the server key's SubjectPublicKeyInfo: the value of Chromium's
   * `--ignore-certificate-errors-spki-list` (stable across starts: the key is kept).
   */
  readonly spkiSha256: string;
}

/**
 * Makes the local HTTPS material in `dir` with the openssl command line (node:crypto cannot issue
 * certificates). The CA and the server key are made once and kept, so a browser that trusts the CA,
 * or a `--ignore-certificate-errors-spki-list` value, stays valid across starts; the server
 * certificate is issued anew on every start for the names given (the profiles' domains, the API's
 * public host, localhost and the loopback addresses), valid for 30 days. Private keys are written
 * with mode 0600 and never printed.
 */
export function ensureLocalTls(dir: string, hostNames: readonly string[]): LocalTls {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caKey = join(dir, 'ca-key.pem');
  const caFile = join(dir, 'ca.pem');
  const serverKey = join(dir, 'server-key.pem');
  const serverCert = join(dir, 'server.pem');
  const names = [...new Set(['localhost', '127.0.0.1', '::1', ...hostNames.map((n) => n.toLowerCase())])];

  if (!existsSync(caKey) || !existsSync(caFile)) {
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', caKey]);
    chmodSync(caKey, 0o600);
    openssl([
      'req',
      '-x509',
      '-new',
      '-key',
      caKey,
      '-sha256',
      '-days',
      '825',
      '-subj',
      '/CN=Signet local development CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE,pathlen:0',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      caFile,
    ]);
  }
  if (!existsSync(serverKey)) {
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', serverKey]);
    chmodSync(serverKey, 0o600);
  }
  const work = mkdtempSync(join(tmpdir(), 'signet-tls-'));
  try {
    const csr = join(work, 'server.csr');
    const extensions = join(work, 'server.ext');
    const san = names.map((name) => (isIP(name) === 0 ? `DNS:${name}` : `IP:${name}`)).join(',');
    writeFileSync(
      extensions,
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=serverAuth',
        `subjectAltName=${san}`,
        '',
      ].join('\n'),
    );
    openssl(['req', '-new', '-key', serverKey, '-subj', '/CN=Signet local server', '-out', csr]);
    openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      caFile,
      '-CAkey',
      caKey,
      '-CAcreateserial',
      '-CAserial',
      join(work, 'ca.srl'),
      '-days',
      '30',
      '-sha256',
      '-extfile',
      extensions,
      '-out',
      serverCert,
    ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const cert = readFileSync(serverCert, 'utf8');
  const key = readFileSync(serverKey, 'utf8');
  const spki = new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'der' });
  return {
    caFile,
    cert,
    key,
    names,
    spkiSha256: createHash('sha256').update(spki).digest('base64'),
  };
}

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (cause) {
    const error = cause as NodeJS.ErrnoException & { stderr?: Buffer };
    if (error.code === 'ENOENT') {
      throw new Error(
        'Expected the openssl command for --https (it makes the local CA and certificate); install openssl or start without --https.',
        { cause },
      );
    }
    throw new Error(`openssl ${args[0]} failed: ${error.stderr?.toString().trim() ?? error.message}`, {
      cause,
    });
  }
}
