import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportOutput } from '../../lambdas/contracts/output';
import { parseConfig } from '../../lib/config';
import { type LocalEngine, startLocalEngine } from '../../local/engine';
import { type RunningSimulator, startSimulator } from '../../simulator/index';

/*
 * Configured exports resolved by name from the configuration object, locally as in AWS: one of
 * 200 configured exports (each engine in a test file of its own: the handlers' clients keep the
 * endpoints of the first engine of a process).
 */

const BUCKET = 'exports';

describe('configured exports from the configuration object, run locally', () => {
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

  it('resolves one of 200 configured exports by its name', async () => {
    const config = parseConfig(
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
    engine = await startLocalEngine({ s3: { embedded: true, bucket: BUCKET }, config });

    const outcome = await engine.run({
      pce,
      bucket: BUCKET,
      prefix: 'pce/',
      input: { exportName: 'export-137' },
    });

    expect(outcome.status).toBe('SUCCEEDED');
    const output = (outcome.status === 'SUCCEEDED' ? outcome.output : {}) as ExportOutput;
    expect(output.key).toMatch(/^pce\/export-137\//);
    expect(output.format).toBe('raw');
    // The configured query of export-137 reached the PCE.
    const submitted = simulator.requests.filter(
      (request) => request.method === 'GET' && request.path.includes('/labels'),
    );
    expect(submitted.at(-1)?.query).toMatchObject({ key: 'env' });
  });
});
