import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TrafficOutput } from '../../lambdas/contracts/traffic-run';
import { resolveExportRequest } from '../../lambdas/export/input';
import type { TrafficManifest } from '../../lambdas/export/traffic/manifest';
import { trafficQueryBody } from '../../lambdas/export/traffic-query';
import { createPceClient } from '../../lambdas/pce/client';
import { fault } from '../../simulator/index';
import { BUCKET, failed, type Harness, PREFIX, sha256, startHarness, succeeded } from './harness';

/** Traffic queries send no Retry-After: poll every second instead of the 5 s default. */
const FAST = { env: { RETRY_AFTER_DEFAULT_SECONDS: '1' } };
const UNTIL = '2026-03-02T00:00:00.000Z';
/** A population small enough for one query: every run below is one window. */
const POPULATION = {
  dataset: { workloads: 300, labels: 40 },
  traffic: { flowsPerDay: 2400, days: 3, until: UNTIL },
};
/** A fixed query, so the simulator serves the same flows to the workflow and to the test. */
const TRAFFIC = {
  start: '2026-03-01T00:00:00Z',
  end: UNTIL,
  policyDecisions: ['blocked', 'potentially_blocked'],
  queryName: 'e2e traffic',
};
const FOLDER_SHAPE = /^pce\/(traffic|flows|quiet)\/dt=\d{4}-\d{2}-\d{2}\/\d{6}Z_[A-Za-z0-9_.-]+\/$/;

type Flow = Record<string, unknown>;
const identity = (flow: Flow) => JSON.stringify(flow);
const sorted = (flows: readonly Flow[]) => flows.map(identity).sort();

describe('traffic exports, run locally against the simulator', () => {
  let h: Harness;
  /** The flows the simulator serves for TRAFFIC, downloaded through the traffic API directly. */
  let served: Flow[];

  beforeAll(async () => {
    h = await startHarness(POPULATION);
    served = JSON.parse((await download()).toString('utf8')) as Flow[];
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
      const { jobHref } = await traffic.submit(
        trafficQueryBody(query, { exportName: 'x', executionName: 'y' }),
      );
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
  const manifestOf = async (output: TrafficOutput) =>
    JSON.parse((await h.getObject(output.manifestKey)).toString('utf8')) as TrafficManifest;
  /** The run's one window and its object. */
  async function onlyWindow(output: TrafficOutput) {
    const manifest = await manifestOf(output);
    expect(manifest.windows).toHaveLength(1);
    const window = manifest.windows[0];
    if (window === undefined) throw new Error('no window');
    return { manifest, window, stored: await h.getObject(window.key) };
  }
  const queriesLeft = () => h.simulator.trafficQueries().filter((q) => q.deletedAt === undefined);

  it('stores a raw traffic export as one JSON array of the flows the PCE served', async () => {
    const output = succeeded<TrafficOutput>(
      await h.run({ kind: 'traffic', traffic: TRAFFIC, format: 'raw', gzip: false }, FAST),
    );

    const { window, stored } = await onlyWindow(output);
    expect(sorted(JSON.parse(stored.toString('utf8')) as Flow[])).toEqual(sorted(served));
    expect(window).toMatchObject({
      bytes: stored.length,
      sha256: sha256(stored),
      objectCount: served.length,
    });
    expect(output).toMatchObject({
      exportName: 'traffic',
      kind: 'traffic',
      bytes: stored.length,
      format: 'raw',
      gzip: false,
      objectCount: served.length,
      windows: 1,
      queries: 1,
      complete: true,
    });
    expect(served.length).toBeGreaterThan(100);
    expect(output.prefix).toMatch(FOLDER_SHAPE);
    expect(output.uri).toBe(`s3://${BUCKET}/${output.prefix}`);
    expect(window.key.startsWith(output.prefix)).toBe(true);
  });

  it('stores ndjson with gzip by default, one flow per line, only the decisions asked for', async () => {
    const output = succeeded<TrafficOutput>(await h.run({ kind: 'traffic', traffic: TRAFFIC }, FAST));

    const { window, stored } = await onlyWindow(output);
    const lines = gunzipSync(stored).toString('utf8').trimEnd().split('\n');
    const flows = lines.map((line) => JSON.parse(line) as Flow);
    expect(output).toMatchObject({ format: 'ndjson', gzip: true, objectCount: served.length });
    expect(window.sha256).toBe(sha256(stored));
    expect(window.key.endsWith('.ndjson.gz')).toBe(true);
    expect(sorted(flows)).toEqual(sorted(served));
    expect(new Set(flows.map((flow) => flow.policy_decision))).toEqual(new Set(TRAFFIC.policyDecisions));
  });

  it('speaks the Explorer protocol: POSTs the query, polls its href, downloads, then deletes it', async () => {
    const traffic = {
      ...TRAFFIC,
      sources: { include: [['/orgs/1/labels/1', '/orgs/1/labels/2']] },
      maxResults: 50_000,
    };
    succeeded<TrafficOutput>(await h.run({ kind: 'traffic', traffic }, FAST));

    const calls = h.simulator.requests.map((r) => `${r.method} ${r.endpoint}`);
    const submit = h.simulator.requests.find((r) => r.endpoint === 'traffic-submit');
    expect(calls.filter((c) => c === 'POST traffic-submit')).toHaveLength(1);
    expect(calls.filter((c) => c === 'GET traffic-poll').length).toBeGreaterThan(0);
    expect(calls.slice(-2)).toEqual(['GET traffic-download', 'DELETE traffic-delete']);
    expect(submit?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(submit?.body ?? '{}')).toMatchObject({
      start_date: '2026-03-01T00:00:00.000Z',
      end_date: '2026-03-02T00:00:00.000Z',
      policy_decisions: TRAFFIC.policyDecisions,
      max_results: 50_000,
      sources: {
        include: [[{ label: { href: '/orgs/1/labels/1' } }, { label: { href: '/orgs/1/labels/2' } }]],
      },
      destinations: { include: [[]], exclude: [] },
    });
    expect(JSON.parse(submit?.body ?? '{}').query_name).toMatch(/^e2e traffic w0000$/);
    expect(queriesLeft()).toEqual([]);
  });

  it('runs a configured traffic export by name, resolving "last 24h" at the start of the run', async () => {
    const before = Date.now();

    const output = succeeded<TrafficOutput>(
      await h.run(
        { exportName: 'flows' },
        { ...FAST, exports: { flows: { kind: 'traffic', traffic: { since: '24h' } } } },
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
    expect(output).toMatchObject({ exportName: 'flows', startDate: body.start_date, endDate: body.end_date });
    expect(output.prefix).toMatch(FOLDER_SHAPE);
  });

  it('describes the query in the object metadata, the manifest and latest.json', async () => {
    const output = succeeded<TrafficOutput>(
      await h.run({ exportName: 'flows', kind: 'traffic', traffic: TRAFFIC, gzip: false }, FAST),
    );

    const { manifest, window } = await onlyWindow(output);
    const metadata = await h.head(window.key);
    const latest = JSON.parse((await h.getObject(`${PREFIX}flows/latest.json`)).toString('utf8'));
    expect(metadata).toMatchObject({
      kind: 'traffic',
      'job-href': window.jobHref,
      path: '/traffic_flows/async_queries',
      'start-date': '2026-03-01T00:00:00.000Z',
      'end-date': '2026-03-02T00:00:00.000Z',
    });
    expect(await h.tags(window.key)).toEqual({
      sha256: window.sha256,
      'object-count': String(served.length),
    });
    expect(window.jobHref).toMatch(/^\/orgs\/1\/traffic_flows\/async_queries\/[0-9a-f-]+$/);
    expect(manifest).toMatchObject({
      kind: 'traffic',
      complete: true,
      objectCount: served.length,
      traffic: { startDate: '2026-03-01T00:00:00.000Z', policyDecisions: TRAFFIC.policyDecisions },
    });
    expect(window).toMatchObject({
      start: '2026-03-01T00:00:00.000Z',
      end: UNTIL,
      flowsCount: served.length,
    });
    expect(latest).toMatchObject({ manifestKey: output.manifestKey });
  });

  it('recognises a download served as gzip bytes without Content-Encoding and stores the flows', async () => {
    h.simulator.faults.add(fault.gzipWithoutEncoding());

    const output = succeeded<TrafficOutput>(
      await h.run({ kind: 'traffic', traffic: TRAFFIC, format: 'raw', gzip: false }, FAST),
    );

    const { stored } = await onlyWindow(output);
    expect(sorted(JSON.parse(stored.toString('utf8')) as Flow[])).toEqual(sorted(served));
    expect(downloads()).toHaveLength(1);
  });

  it('downloads an empty result of a completed query again until the flows arrive', async () => {
    h.simulator.faults.add(fault.emptyResult({ times: 2 }));

    const output = succeeded<TrafficOutput>(await h.run({ kind: 'traffic', traffic: TRAFFIC }, FAST));

    expect(output.objectCount).toBe(served.length);
    expect(downloads()).toHaveLength(3);
  });

  it('fails with PceUnavailable, storing nothing, when the download stays empty after the query reported flows', async () => {
    h.simulator.faults.add(fault.emptyResult({ times: Number.POSITIVE_INFINITY }));

    // Fetch downloads again from the start after each wait (shortened here), at most 10 times.
    const { error, cause } = failed(
      await h.run(
        { exportName: 'quiet', kind: 'traffic', traffic: TRAFFIC, format: 'raw', gzip: false },
        { ...FAST, waitTimeOverrides: { TrafficWindowWaitToFetch: 50 } },
      ),
    );

    expect(error).toBe('PceUnavailable');
    expect(cause).toContain(`held 0 flows of the ${served.length} the query reported`);
    expect(cause).toContain('10 downloads failed');
    expect(downloads().length).toBeGreaterThanOrEqual(4);
    expect(await h.listKeys(`${PREFIX}quiet/dt=`)).toEqual([]);
    expect(await h.listKeys(`${PREFIX}quiet/latest.json`)).toEqual([]);
    expect(queriesLeft()).toEqual([]);
  });

  it('retries a download cut off mid-stream and stores the complete flows', async () => {
    h.simulator.faults.add(fault.cutBody(20_000, { endpoint: 'traffic-download' }));

    const output = succeeded<TrafficOutput>(
      await h.run({ kind: 'traffic', traffic: TRAFFIC, format: 'raw', gzip: false }, FAST),
    );

    const { window, stored } = await onlyWindow(output);
    expect(sorted(JSON.parse(stored.toString('utf8')) as Flow[])).toEqual(sorted(served));
    expect(sha256(stored)).toBe(window.sha256);
    expect(downloads()).toHaveLength(2);
    expect(await h.engine.s3?.listOpenUploads(BUCKET)).toEqual([]);
    expect(queriesLeft()).toEqual([]);
  });

  it("fails with PceJobFailed carrying the PCE's message when the query fails", async () => {
    h.simulator.faults.add(
      fault.jobFails('Query exceeded the flow store limit', { endpoint: 'traffic-submit' }),
    );

    const { error, cause } = failed(await h.run({ kind: 'traffic', traffic: TRAFFIC }, FAST));

    expect(error).toBe('PceJobFailed');
    expect(cause).toContain('Query exceeded the flow store limit');
    expect(cause).toMatch(/\/orgs\/1\/traffic_flows\/async_queries\//);
    expect(queriesLeft()).toEqual([]);
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

    const { error, cause } = failed(
      await h.run({ kind: 'traffic', traffic: TRAFFIC, maxWaitSeconds: 3 }, FAST),
    );

    expect(error).toBe('PceJobTimeout');
    // Whether the window's query was polled before the run's deadline depends on how fast the run starts.
    expect(cause).toMatch(/the run's deadline \S+ \(maxWaitSeconds 3\)/);
    expect(queriesLeft()).toEqual([]);
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
