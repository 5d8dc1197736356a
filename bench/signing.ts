import { generateKeyPairSync, sign } from 'node:crypto';
import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import { parseSigningKey, signCookies, signUrl } from '../lib/signing/index.ts';
import { interleavedOpsPerSecond, opensslSignRate, ratio } from './measure.ts';

/** One line of the report. */
export interface Measurement {
  name: string;
  perSecond: number;
}

/**
 * Signing core throughput beside `openssl speed` and raw `crypto.sign` on one core, and beside
 * `@aws-sdk/cloudfront-signer` given a PEM string as its docs show (it parses the key every call).
 */
export function benchSigning(seconds: number): {
  measurements: Measurement[];
  ratios: Record<string, number>;
} {
  const rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string;
  const ecPem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string;
  const rsa = parseSigningKey(rsaPem);
  const ecdsa = parseSigningKey(ecPem);
  const keyPairId = 'K2JCJMDEHXQW5F';
  const url = 'https://media.example.com/videos/2026/launch-keynote.mp4?quality=1080p';
  const resource = 'https://media.example.com/videos/*';
  const now = Math.floor(Date.now() / 1000);
  const expires = now + 3600;
  const dateLessThan = new Date(expires * 1000).toISOString();
  const policy = Buffer.from(
    `{"Statement":[{"Resource":"${url}","Condition":{"DateLessThan":{"AWS:EpochTime":${expires}}}}]}`,
  );

  const opensslRsa = opensslSignRate('rsa2048', seconds);
  const opensslEcdsa = opensslSignRate('ecdsap256', seconds);
  // A different URL on every call, as an API serving many objects sees them: nothing kept from one
  // call (canonicalUrl keeps its last results) serves the next.
  let n = 0;
  const nextUrl = () => {
    n = (n + 1) % 1_000_000;
    return `https://media.example.com/videos/2026/launch-keynote-${n}.mp4?quality=1080p`;
  };
  // Each algorithm's figures interleaved (bench/measure.ts), so their ratios survive other load.
  const [rawRsa, rsaUrl, rsaCookies, sdkPem] = interleavedOpsPerSecond(
    [
      () => sign('sha1', policy, rsa.privateKey),
      () => signUrl({ url: nextUrl(), key: rsa, keyPairId, expires, now }),
      () => signCookies({ resource, key: rsa, keyPairId, expires, now }),
      () => getSignedUrl({ url: nextUrl(), keyPairId, privateKey: rsaPem, dateLessThan }),
    ],
    seconds * 3,
  ) as [number, number, number, number];
  const [rawEcdsa, ecdsaUrl, ecdsaCookies] = interleavedOpsPerSecond(
    [
      () => sign('sha256', policy, ecdsa.privateKey),
      () => signUrl({ url: nextUrl(), key: ecdsa, keyPairId, expires, now }),
      () => signCookies({ resource, key: ecdsa, keyPairId, expires, now }),
    ],
    seconds * 3,
  ) as [number, number, number];

  return {
    measurements: [
      { name: 'openssl speed rsa2048 (1 core)', perSecond: opensslRsa },
      { name: 'crypto.sign RSA-2048 SHA-1, KeyObject', perSecond: rawRsa },
      { name: 'signUrl RSA canned', perSecond: rsaUrl },
      { name: 'signCookies RSA custom', perSecond: rsaCookies },
      { name: '@aws-sdk/cloudfront-signer RSA, PEM string', perSecond: sdkPem },
      { name: 'openssl speed ecdsap256 (1 core)', perSecond: opensslEcdsa },
      { name: 'crypto.sign ECDSA P-256 SHA-256, KeyObject', perSecond: rawEcdsa },
      { name: 'signUrl ECDSA canned', perSecond: ecdsaUrl },
      { name: 'signCookies ECDSA custom', perSecond: ecdsaCookies },
    ],
    ratios: {
      rsaUrlVsOpenssl: ratio(rsaUrl, opensslRsa),
      ecdsaUrlVsOpenssl: ratio(ecdsaUrl, opensslEcdsa),
      rsaCookiesVsOpenssl: ratio(rsaCookies, opensslRsa),
      ecdsaCookiesVsOpenssl: ratio(ecdsaCookies, opensslEcdsa),
      rsaUrlVsCryptoSign: ratio(rsaUrl, rawRsa),
      ecdsaUrlVsCryptoSign: ratio(ecdsaUrl, rawEcdsa),
      rsaUrlVsSdkPem: ratio(rsaUrl, sdkPem),
      ecdsaUrlVsRsaUrl: ratio(ecdsaUrl, rsaUrl),
    },
  };
}
