import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportOutput } from '../../lambdas/contracts/output';
import { loadConfig } from '../../lib/config';
import { REPO_ROOT } from '../../lib/lambda-defaults';
import { type LocalEngine, startLocalEngine } from '../../local/engine';
import { type RunningSimulator, startSimulator } from '../../simulator/index';

/*
 * The two-PCE example (config/examples/two-pces.json) run locally: the input's "pce" picks the
 * workflow, whose configuration object resolves that PCE's exports by name.
 */

const BUCKET = 'exports';

describe('the two-PCE example, run locally', () => {
  let simulator: RunningSimulator;
  let pce: { url: string; orgId: number; apiKey: string; apiSecret: string; caBundle?: string };
  let engine: LocalEngine | undefined;

  beforeAll(async () => {
    simulator = await startSimulator({
      tls: true,
      jobDurationMs: 200,
      retryAfterSeconds: 1,
      dataset: { labels: 40 },
    });
    pce = {
      url: simulator.url,
      orgId: 1,
      apiKey: simulator.credentials.apiKey,
      apiSecret: simulator.credentials.apiSecret,
      ...(simulator.caPem ? { caBundle: simulator.caPem } : {}),
    };
  });
  afterAll(async () => {
    await engine?.close();
    await simulator?.close();
  });

  it("runs an export of one PCE of the two-PCE example on that PCE's workflow, below its folder", async () => {
    engine = await startLocalEngine({
      s3: { embedded: true, bucket: BUCKET },
      config: loadConfig(join(REPO_ROOT, 'config', 'examples', 'two-pces.json')),
    });

    const outcome = await engine.run({
      pce,
      bucket: BUCKET,
      prefix: 'pce/prod/',
      input: { exportName: 'labels', pce: 'prod' },
    });

    expect(outcome.status).toBe('SUCCEEDED');
    const output = (outcome.status === 'SUCCEEDED' ? outcome.output : {}) as ExportOutput;
    expect(output.key).toMatch(/^pce\/prod\/labels\//);
    await expect(
      engine.run({ pce, bucket: BUCKET, prefix: 'pce/', input: { exportName: 'labels' } }),
    ).rejects.toThrow('the configuration has several PCEs (prod, saas)');
  });
});
