import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import type { Config } from '../config/index.ts';
import { clientSettings } from './endpoints.ts';

/** The real CloudFront client; its control plane is global and signs in us-east-1. */
export function createCloudFrontClient(config: Config): CloudFrontClient {
  return new CloudFrontClient(clientSettings(config, 'cloudfront'));
}
