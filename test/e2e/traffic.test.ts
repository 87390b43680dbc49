import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ExportOutput } from '../../lambdas/contracts/output';
import { resolveExportRequest } from '../../lambdas/export/input';
import { trafficQueryBody } from '../../lambdas/export/traffic-query';
import { createPceClient } from '../../lambdas/pce/client';
import type { RunOutcome } from '../../local/runner';
import { fault } from '../../simulator/index';
import { BUCKET, type Harness, PREFIX, sha256, startHarness, succeeded } from './harness';

/** Traffic queries send no Retry-After: poll every second instead of the 5 s default. */
const FAST = { env: { RETRY_AFTER_DEFAULT_SECONDS: '1' } };
const FLOWS = 1200;
/** A fixed query, so the simulator serves the same flows to the workflow and to the test. */
const TRAFFIC = {
  start: '2026-03-01T00:00:00Z',
  end: '2026-03-02T00:00:00Z',
  policyDecisions: ['blocked', 'potentially_blocked'],
  queryName: 'e2e traffic',
};
const KEY_SHAPE =
  /^pce\/(traffic|flows)\/dt=\d{4}-\d{2}-\d{2}\/\d{6}Z_[A-Za-z0-9_.-]+\.(json|ndjson)(\.gz)?$/;

function failed(outcome: RunOutcome): { error: string; cause: string } {
  if (outcome.status !== 'FAILED')
    throw new Error(`expected the execution to fail, it succeeded: ${JSON.stringify(outcome.output)}`);
  return { error: outcome.error, cause: outcome.cause };
}

describe('traffic exports, run locally against the simulator', () => {
  let h: Harness;
  /** The flows the simulator serves for TRAFFIC, downloaded through the traffic API directly. */
  let served: Buffer;

  beforeAll(async () => {
    h = await startHarness({ dataset: { workloads: 300, labels: 40, trafficFlows: FLOWS } });
    served = await download();
  });
  afterEach(() => h.reset());
  afterAll(async () => {
    await h?.close();
  });

  async function download(): Promise<Buffer> {
    const client = createPceClient({
      baseUrl: h.simulator.url,
      orgId: 1,
      ...h.simulator.credentials,
      caBundle: h.simulator.caPem,
    });
    const traffic = client.traffic;
    try {
      const { traffic: query } = resolveExportRequest({ kind: 'traffic', traffic: TRAFFIC });
      if (!query) throw new Error('the traffic input did not resolve to a query');
      const body = trafficQueryBody(query, {
        exportName: 'x',
        executionName: 'y',
      });
      const { jobHref } = await traffic.submit(body);
      for (let i = 0; i < 50; i++) {
        const query = await traffic.poll(jobHref);
        if (query.status === 'done' && query.resultHref) {
          const chunks: Buffer[] = [];
          for await (const chunk of (await traffic.open(query.resultHref)).body) chunks.push(chunk as Buffer);
          await traffic.delete(jobHref);
          return Buffer.concat(chunks);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      throw new Error(`traffic query ${jobHref} did not complete`);
    } finally {
      await client.close();
    }
  }

  const downloads = () => h.simulator.requests.filter((r) => r.endpoint === 'traffic-download');

  it('stores a raw traffic export byte for byte as the PCE served it', async () => {
    const output = succeeded<ExportOutput>(
      await h.run({ kind: 'traffic', traffic: TRAFFIC, format: 'raw', gzip: false }, FAST),
    );

    const stored = await h.getObject(output.key);
    expect(stored.equals(served)).toBe(true);
    expect(output).toMatchObject({
      exportName: 'traffic',
      bytes: served.length,
      sha256: sha256(served),
      format: 'raw',
      gzip: false,
      objectCount: FLOWS,
    });
    expect(output.jobHref).toMatch(/^\/orgs\/1\/traffic_flows\/async_queries\/[0-9a-f-]+$/);
    expect(output.key).toMatch(KEY_SHAPE);
  });

  it('stores ndjson with gzip by default, one flow per line, only the decisions asked for', async () => {
    const output = succeeded<ExportOutput>(await h.run({ kind: 'traffic', traffic: TRAFFIC }, FAST));

    const stored = await h.getObject(output.key);
    const lines = gunzipSync(stored).toString('utf8').trimEnd().split('\n');
    const flows = lines.map((line) => JSON.parse(line) as { policy_decision: string });
    expect(output).toMatchObject({
      format: 'ndjson',
      gzip: true,
      objectCount: FLOWS,
      sha256: sha256(stored),
    });
    expect(output.key.endsWith('.ndjson.gz')).toBe(true);
    expect(flows).toEqual(JSON.parse(served.toString('utf8')));
    expect(new Set(flows.map((flow) => flow.policy_decision))).toEqual(new Set(TRAFFIC.policyDecisions));
  });

  it('speaks the Explorer protocol: POSTs the query, polls its href, downloads, then deletes it', async () => {
    const output = succeeded<ExportOutput>(
      await h.run(
        {
          kind: 'traffic',
          traffic: {
            ...TRAFFIC,
            sources: { include: [['/orgs/1/labels/1', '/orgs/1/labels/2']] },
            maxResults: 500,
          },
        },
        FAST,
      ),
    );

    const calls = h.simulator.requests.map((r) => `${r.method} ${r.endpoint}`);
    const submit = h.simulator.requests[0];
    expect(calls[0]).toBe('POST traffic-submit');
    expect(calls.filter((c) => c === 'GET traffic-poll')).toHaveLength(output.polls);
    expect(calls.slice(-2)).toEqual(['GET traffic-download', 'DELETE traffic-delete']);
    expect(submit?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(submit?.body ?? '{}')).toMatchObject({
      query_name: 'e2e traffic',
      start_date: '2026-03-01T00:00:00.000Z',
      end_date: '2026-03-02T00:00:00.000Z',
      policy_decisions: TRAFFIC.policyDecisions,
      max_results: 500,
      sources: {
        include: [[{ label: { href: '/orgs/1/labels/1' } }, { label: { href: '/orgs/1/labels/2' } }]],
      },
      destinations: { include: [[]], exclude: [] },
    });
    expect(output.objectCount).toBe(500);
  });

  it('runs a configured traffic export by name, resolving "last 24h" at the start of the run', async () => {
    const before = Date.now();

    const output = succeeded<ExportOutput>(
      await h.run(
        { exportName: 'flows' },
        { ...FAST, exports: { flows: { kind: 'traffic', traffic: { since: '24h', maxResults: 300 } } } },
      ),
    );

    const submit = h.simulator.requests.filter((r) => r.endpoint === 'traffic-submit').at(-1);
    const body = JSON.parse(submit?.body ?? '{}') as {
      start_date: string;
      end_date: string;
    };
    const end = Date.parse(body.end_date);
    expect(end).toBeGreaterThanOrEqual(before - 1000);
    expect(end - Date.parse(body.start_date)).toBe(86_400_000);
    expect(output).toMatchObject({ exportName: 'flows', objectCount: 300 });
    expect(output.key).toMatch(KEY_SHAPE);
  });

  it('describes the query in the object metadata, the manifest and latest.json', async () => {
    const output = succeeded<ExportOutput>(
      await h.run({ exportName: 'flows', kind: 'traffic', traffic: TRAFFIC, gzip: false }, FAST),
    );

    const metadata = await h.head(output.key);
    const manifest = JSON.parse((await h.getObject(output.manifestKey)).toString('utf8'));
    const latest = JSON.parse((await h.getObject(`${PREFIX}flows/latest.json`)).toString('utf8'));
    expect(metadata).toMatchObject({
      kind: 'traffic',
      'job-href': output.jobHref,
      path: '/traffic_flows/async_queries',
      'start-date': '2026-03-01T00:00:00.000Z',
      'end-date': '2026-03-02T00:00:00.000Z',
      'policy-decisions': 'blocked,potentially_blocked',
      'max-results': '100000',
      sha256: output.sha256,
      'object-count': String(FLOWS),
    });
    expect(manifest).toMatchObject({
      kind: 'traffic',
      key: output.key,
      sha256: output.sha256,
      traffic: { startDate: '2026-03-01T00:00:00.000Z', policyDecisions: TRAFFIC.policyDecisions },
    });
    expect(latest).toMatchObject({ key: output.key, manifestKey: output.manifestKey });
  });

  it('recognises a download served as gzip bytes without Content-Encoding and stores the flows', async () => {
    h.simulator.faults.add(fault.gzipWithoutEncoding());

    const output = succeeded<ExportOutput>(
      await h.run({ kind: 'traffic', traffic: TRAFFIC, format: 'raw', gzip: false }, FAST),
    );

    expect((await h.getObject(output.key)).equals(served)).toBe(true);
    expect(downloads()).toHaveLength(1);
  });

  it('downloads an empty result of a completed query again until the flows arrive', async () => {
    h.simulator.faults.add(fault.emptyResult({ times: 2 }));

    const output = succeeded<ExportOutput>(await h.run({ kind: 'traffic', traffic: TRAFFIC }, FAST));

    expect(output.objectCount).toBe(FLOWS);
    expect(downloads()).toHaveLength(3);
  });

  it('accepts a result that stays empty after three more downloads, storing an empty export', async () => {
    h.simulator.faults.add(fault.emptyResult({ times: Number.POSITIVE_INFINITY }));

    const output = succeeded<ExportOutput>(
      await h.run(
        { exportName: 'quiet', kind: 'traffic', traffic: TRAFFIC, format: 'raw', gzip: false },
        FAST,
      ),
    );

    expect(output.objectCount).toBe(0);
    expect((await h.getObject(output.key)).toString('utf8')).toBe('[]');
    expect(downloads()).toHaveLength(4);
  });

  it('retries a download cut off mid-stream and stores the complete flows', async () => {
    h.simulator.faults.add(fault.cutBody(20_000, { endpoint: 'traffic-download' }));

    const output = succeeded<ExportOutput>(
      await h.run({ kind: 'traffic', traffic: TRAFFIC, format: 'raw', gzip: false }, FAST),
    );

    const stored = await h.getObject(output.key);
    expect(stored.equals(served)).toBe(true);
    expect(sha256(stored)).toBe(output.sha256);
    expect(downloads()).toHaveLength(2);
    expect(await h.engine.s3?.listOpenUploads(BUCKET)).toEqual([]);
  });

  it("fails with PceJobFailed carrying the PCE's message when the query fails", async () => {
    h.simulator.faults.add(
      fault.jobFails('Query exceeded the flow store limit', { endpoint: 'traffic-submit' }),
    );

    const { error, cause } = failed(await h.run({ kind: 'traffic', traffic: TRAFFIC }, FAST));

    expect(error).toBe('PceJobFailed');
    expect(cause).toContain('Query exceeded the flow store limit');
    expect(cause).toMatch(/\/orgs\/1\/traffic_flows\/async_queries\//);
  });

  it.each(['cancelled', 'cancel_requested'])(
    'fails with PceJobFailed when the query is %s',
    async (status) => {
      h.simulator.faults.add(fault.jobStatus(status, { endpoint: 'traffic-submit' }));

      const { error, cause } = failed(await h.run({ kind: 'traffic', traffic: TRAFFIC }, FAST));

      expect(error).toBe('PceJobFailed');
      expect(cause).toContain(`was cancelled (${status})`);
      expect(downloads()).toHaveLength(0);
    },
  );

  it('fails with PceJobTimeout at the deadline when the query never completes', async () => {
    h.simulator.faults.add(fault.jobNeverFinishes({ endpoint: 'traffic-submit' }));
    const started = Date.now();

    const { error, cause } = failed(
      await h.run({ kind: 'traffic', traffic: TRAFFIC, maxWaitSeconds: 3 }, FAST),
    );

    expect(error).toBe('PceJobTimeout');
    expect(cause).toContain('did not finish within 3 seconds (status running');
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('fails with PceProtocolError on an unknown query status', async () => {
    h.simulator.faults.add(fault.jobStatus('exploded', { endpoint: 'traffic-submit' }));

    const { error, cause } = failed(await h.run({ kind: 'traffic', traffic: TRAFFIC }, FAST));

    expect(error).toBe('PceProtocolError');
    expect(cause).toContain('exploded');
  });

  it('fails with PceRequestError when the PCE refuses the query', async () => {
    h.simulator.faults.add(fault.respond(406, { endpoint: 'traffic-submit' }));

    const { error, cause } = failed(await h.run({ kind: 'traffic', traffic: TRAFFIC }, FAST));

    expect(error).toBe('PceRequestError');
    expect(cause).toContain('POST /orgs/1/traffic_flows/async_queries returned 406');
    expect(cause).not.toContain(h.simulator.credentials.apiSecret);
  });

  it('fails with ExportConfigError on a bad traffic query and sends nothing to the PCE', async () => {
    const { error, cause } = failed(
      await h.run({
        kind: 'traffic',
        traffic: { since: '24h', maxResults: 500_000, policyDecisions: ['denied'] },
      }),
    );

    expect(error).toBe('ExportConfigError');
    expect(cause).toContain('input.traffic.maxResults');
    expect(cause).toContain('input.traffic.policyDecisions');
    expect(h.simulator.requests).toHaveLength(0);
  });
});
