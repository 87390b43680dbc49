import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportOutput } from '../../lambdas/contracts/output';
import { parseConfig } from '../../lib/config';
import { type Harness, startHarness } from './harness';

/*
 * Configured exports resolved by name from the configuration object, locally as in AWS: one of
 * 200 configured exports (each engine in a test file of its own: the handlers' clients keep the
 * endpoints of the first engine of a process).
 */

const CONFIG = parseConfig(
  {
    pce: { url: 'https://pce.example.com:8443', orgId: 1 },
    bucket: { prefix: 'pce/' },
    exports: Array.from({ length: 200 }, (_, index) => ({
      name: `export-${String(index).padStart(3, '0')}`,
      kind: 'collection',
      path: '/labels',
      query: { key: index === 137 ? 'env' : `key-${index}` },
      format: 'raw',
      gzip: false,
    })),
  },
  '200 exports',
);

describe('configured exports from the configuration object, run locally', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ jobDurationMs: 200, dataset: { labels: 40 } }, { config: CONFIG });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('resolves one of 200 configured exports by its name', async () => {
    const outcome = await h.run({ exportName: 'export-137' });

    expect(outcome.status).toBe('SUCCEEDED');
    const output = (outcome.status === 'SUCCEEDED' ? outcome.output : {}) as ExportOutput;
    expect(output.key).toMatch(/^pce\/export-137\//);
    expect(output.format).toBe('raw');
    // The configured query of export-137 reached the PCE.
    const submitted = h.simulator.requests.filter(
      (request) => request.method === 'GET' && request.path.includes('/labels'),
    );
    expect(submitted.at(-1)?.query).toMatchObject({ key: 'env' });
  });
});
