import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportOutput } from '../../lambdas/contracts/output';
import { loadConfig } from '../../lib/config';
import { REPO_ROOT } from '../../lib/lambda-defaults';
import { type Harness, startHarness } from './harness';

/*
 * The two-PCE example (config/examples/two-pces.json) run locally: the input's "pce" picks the
 * workflow, whose configuration object resolves that PCE's exports by name.
 */

describe('the two-PCE example, run locally', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(
      { jobDurationMs: 200, dataset: { labels: 40 } },
      { config: loadConfig(join(REPO_ROOT, 'config', 'examples', 'two-pces.json')) },
    );
  });
  afterAll(async () => {
    await h?.close();
  });

  it("runs an export of one PCE of the two-PCE example on that PCE's workflow, below its folder", async () => {
    const outcome = await h.run({ exportName: 'labels', pce: 'prod' }, { prefix: 'pce/prod/' });

    expect(outcome.status).toBe('SUCCEEDED');
    const output = (outcome.status === 'SUCCEEDED' ? outcome.output : {}) as ExportOutput;
    expect(output.key).toMatch(/^pce\/prod\/labels\//);
    await expect(h.run({ exportName: 'labels' })).rejects.toThrow(
      'the configuration has several PCEs (prod, saas)',
    );
  });
});
