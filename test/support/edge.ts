import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEdge } from '../../infra/local/edge.ts';
import { tempDir } from './cli.ts';
import type { RotationSandbox } from './rotation-sandbox.ts';

/**
 * A sandbox edge in front of a fresh origin folder holding `origin.example/private/file.txt`, on the
 * sandbox's hand clock, applying key group changes `delaySeconds` after they are made.
 */
export function startEdgeWithFile(sandbox: RotationSandbox, delaySeconds: number, content: string) {
  const origins = tempDir();
  mkdirSync(join(origins, 'origin.example/private'), { recursive: true });
  writeFileSync(join(origins, 'origin.example/private/file.txt'), content);
  return startEdge({
    control: sandbox.cloudfront.standIn,
    propagationDelayMs: delaySeconds * 1000,
    originsDir: origins,
    now: sandbox.clock.millis,
  });
}
