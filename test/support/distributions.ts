import type { DistributionConfig } from '@aws-sdk/client-cloudfront';

/** A distribution whose default behaviour trusts `keyGroups` (none: signed URLs not required). */
export function distributionTrusting(reference: string, keyGroups: string[]): DistributionConfig {
  return {
    CallerReference: reference,
    Comment: '',
    Enabled: true,
    Origins: {
      Quantity: 1,
      Items: [
        {
          Id: 'origin',
          DomainName: 'origin.example.com',
          CustomOriginConfig: { HTTPPort: 80, HTTPSPort: 443, OriginProtocolPolicy: 'http-only' },
        },
      ],
    },
    DefaultCacheBehavior: {
      TargetOriginId: 'origin',
      ViewerProtocolPolicy: 'redirect-to-https',
      TrustedKeyGroups:
        keyGroups.length === 0
          ? { Enabled: false, Quantity: 0 }
          : { Enabled: true, Quantity: keyGroups.length, Items: keyGroups },
    },
  };
}
