import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PutObjectCommand, PutObjectTaggingCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExportConfigError } from '../../lambdas/contracts/errors';
import type { WorkflowState } from '../../lambdas/contracts/state';
import { type FetchDeps, fetchExport } from '../../lambdas/export/fetch-export';
import { resolveExportRequest } from '../../lambdas/export/input';
import type { ExportLogger } from '../../lambdas/export/logger';
import { pollExport } from '../../lambdas/export/poll-job';
import { submitExport } from '../../lambdas/export/submit-job';
import { openTrafficResult, peekJsonArray } from '../../lambdas/export/traffic-result';
import type { PceClient } from '../../lambdas/pce/client';
import { PceProtocolError, PceUnavailable } from '../../lambdas/pce/errors';
import type { Datafile, PollResult } from '../../lambdas/pce/jobs';
import type { TrafficQueryApi } from '../../lambdas/pce/traffic-queries';
import { unusedJobs } from '../support/fake-pce';
import { mockedS3 } from '../support/s3-mock';

const QUERY = '/orgs/1/traffic_flows/async_queries/3f2b9a51-7c1e-4a0b-9d7e-0c1b2a3d4e5f';
const DOWNLOAD = `${QUERY}/download`;
const FLOWS =
  '[{"src":{"ip":"10.0.0.1"},"policy_decision":"blocked"},{"src":{"ip":"10.0.0.2"},"policy_decision":"allowed"}]';
const execution = { name: 'run-1', startTime: '2026-03-04T05:06:07.890Z' };
const T0 = new Date('2026-03-04T05:06:08.000Z');

function logger() {
  return { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() } satisfies ExportLogger;
}

function download(body: string): Datafile {
  return { body: Readable.from([Buffer.from(body)]), contentType: 'application/json' };
}

/** A client whose collection methods must not be used, with a traffic API whose downloads serve `bodies` in turn. */
function trafficClient(options: { poll?: Partial<PollResult>; bodies?: string[] } = {}) {
  const bodies = [...(options.bodies ?? [FLOWS])];
  const traffic = {
    submit: vi.fn(async () => ({ jobHref: QUERY, retryAfterSeconds: 5 })),
    poll: vi.fn(
      async (): Promise<PollResult> => ({ status: 'running', retryAfterSeconds: 5, ...options.poll }),
    ),
    open: vi.fn(async () => download(bodies.length > 1 ? (bodies.shift() as string) : (bodies[0] as string))),
    delete: vi.fn(async () => undefined),
    // No query of this name yet: Submit posts one.
    findByName: vi.fn(async () => undefined),
  } satisfies TrafficQueryApi;
  const client = {
    collections: unusedJobs('collection job'),
    close: vi.fn(async () => undefined),
    traffic,
  } satisfies PceClient;
  return { client, traffic };
}

function trafficState(job: Partial<WorkflowState['job']> = {}): WorkflowState {
  return {
    export: resolveExportRequest(
      { kind: 'traffic', traffic: { policyDecisions: ['blocked'] }, format: 'raw', gzip: false },
      {},
      { now: new Date(execution.startTime) },
    ),
    execution,
    job: {
      href: QUERY,
      status: 'pending',
      polls: 0,
      waitSeconds: 5,
      retryAfterSeconds: 5,
      requestedAt: T0.toISOString(),
      deadline: '2026-03-04T06:06:08.000Z',
      timedOut: false,
      ...job,
    },
  };
}

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  await pipeline(
    stream,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    }),
  );
  return Buffer.concat(chunks).toString('utf8');
}

describe('Submit for a traffic export', () => {
  function deps(client: PceClient, configuredExports = {}) {
    return {
      connect: async () => client,
      configuredExports,
      poll: { maxIntervalSeconds: 300, maxPolls: 1000 },
      logger: logger(),
      now: () => T0,
      orgId: 1,
    };
  }

  it("posts the query for the range before the execution's start and returns the first state", async () => {
    const { client, traffic } = trafficClient();

    const state = await submitExport(
      { input: { kind: 'traffic', traffic: { since: '24h', maxResults: 5000 } }, execution },
      deps(client),
    );

    expect(traffic.submit).toHaveBeenCalledWith(
      expect.objectContaining({
        query_name: 'pce-export traffic run-1',
        start_date: '2026-03-03T05:06:07.890Z',
        end_date: '2026-03-04T05:06:07.890Z',
        max_results: 5000,
        policy_decisions: [],
      }),
    );
    expect(state.export).toMatchObject({ kind: 'traffic', name: 'traffic', traffic: { since: '24h' } });
    expect(state.job).toMatchObject({ href: QUERY, status: 'pending', polls: 0, waitSeconds: 5 });
  });

  it('submits the same query when Submit runs again for the same execution', async () => {
    const { client, traffic } = trafficClient();
    const event = { input: { kind: 'traffic' }, execution };

    await submitExport(event, deps(client));
    await submitExport(event, { ...deps(client), now: () => new Date('2026-03-04T05:10:00.000Z') });

    expect(traffic.submit.mock.calls[0]).toEqual(traffic.submit.mock.calls[1]);
  });

  it('fails with ExportConfigError before connecting when a filter names another org', async () => {
    const { client } = trafficClient();
    const connect = vi.fn(async () => client);

    const error = await submitExport(
      { input: { kind: 'traffic', traffic: { sources: { exclude: ['/orgs/2/labels/1'] } } }, execution },
      { ...deps(client), connect },
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ExportConfigError);
    expect((error as Error).message).toContain('traffic.sources.exclude[0]');
    expect(connect).not.toHaveBeenCalled();
  });
});

describe('Poll for a traffic export', () => {
  const pollDeps = (client: PceClient, now = T0) => ({
    connect: async () => client,
    poll: { maxIntervalSeconds: 300, maxPolls: 1000 },
    logger: logger(),
    now: () => now,
  });

  it('polls the query and moves to done with its download href', async () => {
    const { client, traffic } = trafficClient({ poll: { status: 'done', resultHref: DOWNLOAD } });

    const next = await pollExport(trafficState(), pollDeps(client));

    expect(traffic.poll).toHaveBeenCalledWith(QUERY);
    expect(next.job).toMatchObject({ status: 'done', resultHref: DOWNLOAD, polls: 1 });
    expect(next.export).toEqual(trafficState().export);
  });

  it("reports a failed query with the PCE's reason as the message", async () => {
    const { client } = trafficClient({
      poll: { status: 'failed', message: 'The PCE traffic query was cancelled (cancelled)' },
    });

    const next = await pollExport(trafficState(), pollDeps(client));

    expect(next.job.status).toBe('failed');
    expect(next.job.message).toBe(
      `PCE traffic query ${QUERY} failed: The PCE traffic query was cancelled (cancelled)`,
    );
  });

  it('times out a query still working at the deadline', async () => {
    const { client } = trafficClient({ poll: { status: 'running' } });

    const next = await pollExport(trafficState(), pollDeps(client, new Date('2026-03-04T06:06:09.000Z')));

    expect(next.job.timedOut).toBe(true);
    expect(next.job.message).toContain(`PCE traffic query ${QUERY} did not finish within 3600 seconds`);
  });
});

describe('Fetch for a traffic export', () => {
  const { s3, s3Mock } = mockedS3();
  beforeEach(() => {
    s3Mock.reset();
    s3Mock.on(PutObjectCommand).resolves({ ETag: '"etag-1"' });
    s3Mock.on(PutObjectTaggingCommand).resolves({});
  });
  afterEach(() => s3Mock.reset());

  function fetchDeps(client: PceClient, log: ExportLogger = logger()): FetchDeps {
    return {
      connect: async () => client,
      s3,
      storage: { bucket: 'exports', prefix: 'pce/', partSizeBytes: 5 * 1024 * 1024, queueSize: 2 },
      orgId: 1,
      logger: log,
      now: () => new Date('2026-03-04T05:07:00.000Z'),
      emptyTrafficResult: { delayMs: 0 },
    };
  }
  const putTo = (key: string) =>
    s3Mock.commandCalls(PutObjectCommand).find((c) => c.args[0].input.Key === key)?.args[0].input;

  it('stores the download under the same Hive-style layout, describes the query, then deletes it', async () => {
    const { client, traffic } = trafficClient();

    const output = await fetchExport(
      trafficState({ status: 'done', resultHref: DOWNLOAD }),
      fetchDeps(client),
    );

    expect(output.key).toBe('pce/traffic/dt=2026-03-04/050607Z_run-1.json');
    expect(Buffer.from(putTo(output.key)?.Body as Uint8Array).toString()).toBe(FLOWS);
    expect(output).toMatchObject({ objectCount: 2, jobHref: QUERY, format: 'raw', gzip: false });
    expect(putTo(output.key)?.Metadata).toMatchObject({
      kind: 'traffic',
      path: '/traffic_flows/async_queries',
      'start-date': '2026-03-03T05:06:07.890Z',
      'end-date': '2026-03-04T05:06:07.890Z',
      since: '24h',
      'policy-decisions': 'blocked',
      'max-results': '100000',
      'job-href': QUERY,
    });
    const manifest = JSON.parse(String(putTo(output.manifestKey)?.Body));
    expect(manifest).toMatchObject({
      kind: 'traffic',
      traffic: trafficState().export.traffic,
      objectCount: 2,
    });
    expect(traffic.open).toHaveBeenCalledTimes(1);
    expect(traffic.delete).toHaveBeenCalledWith(QUERY);
  });

  it('downloads an empty result again and stores the flows that then arrive', async () => {
    const { client, traffic } = trafficClient({ bodies: ['[]', ' [ ] ', FLOWS] });

    const output = await fetchExport(
      trafficState({ status: 'done', resultHref: DOWNLOAD }),
      fetchDeps(client),
    );

    expect(traffic.open).toHaveBeenCalledTimes(3);
    expect(output.objectCount).toBe(2);
  });

  it('accepts an empty result as empty after three more downloads', async () => {
    const { client, traffic } = trafficClient({ bodies: ['[]'] });
    const log = logger();

    const output = await fetchExport(
      trafficState({ status: 'done', resultHref: DOWNLOAD }),
      fetchDeps(client, log),
    );

    expect(traffic.open).toHaveBeenCalledTimes(4);
    expect(output.objectCount).toBe(0);
    expect(Buffer.from(putTo(output.key)?.Body as Uint8Array).toString()).toBe('[]');
    expect(log.warn).toHaveBeenCalledWith(
      expect.stringContaining('accepting it as empty'),
      expect.anything(),
    );
  });

  it('fails with PceProtocolError when the download stays blank, storing nothing', async () => {
    const { client, traffic } = trafficClient({ bodies: [''] });

    const error = await fetchExport(
      trafficState({ status: 'done', resultHref: DOWNLOAD }),
      fetchDeps(client),
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PceProtocolError);
    expect(traffic.open).toHaveBeenCalledTimes(4);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});

describe('openTrafficResult', () => {
  it('waits the delay between downloads of an empty result', async () => {
    const { traffic } = trafficClient({ bodies: ['[]', '[]', FLOWS] });
    const sleep = vi.fn(async () => undefined);

    const result = await openTrafficResult(traffic, DOWNLOAD, { logger: logger(), delayMs: 1500, sleep });

    expect(result.downloads).toBe(3);
    expect(sleep.mock.calls).toEqual([[1500], [1500]]);
    expect(await text(result.body)).toBe(FLOWS);
  });

  it('takes a non-empty result at once', async () => {
    const { traffic } = trafficClient();
    const sleep = vi.fn(async () => undefined);

    const result = await openTrafficResult(traffic, DOWNLOAD, { logger: logger(), sleep });

    expect(result.downloads).toBe(1);
    expect(sleep).not.toHaveBeenCalled();
  });

  it('downloads only once when no refetch is allowed', async () => {
    const { traffic } = trafficClient({ bodies: ['[]'] });

    const result = await openTrafficResult(traffic, DOWNLOAD, { logger: logger(), refetches: 0, delayMs: 0 });

    expect(result.downloads).toBe(1);
    expect(await text(result.body)).toBe('[]');
  });
});

describe('peekJsonArray', () => {
  it.each([
    ['[]', 'empty-array'],
    [' \n[ \r\n\t] \n', 'empty-array'],
    ['', 'blank'],
    ['  \n', 'blank'],
    ['[{"a":1}]', 'data'],
    ['[1]', 'data'],
    ['{"not":"an array"}', 'data'],
    ['[', 'data'],
  ] as const)('sees %j as %s and replays every byte', async (body, shape) => {
    const peeked = await peekJsonArray(Readable.from([Buffer.from(body)]));

    expect(peeked.shape).toBe(shape);
    expect(await text(peeked.body)).toBe(body);
  });

  it('decides across chunk boundaries and replays the whole stream', async () => {
    const chunks = ['  ', '[', '\n', '  {"a"', ':1}', ',{"b":2}]'].map((c) => Buffer.from(c));

    const peeked = await peekJsonArray(Readable.from(chunks));

    expect(peeked.shape).toBe('data');
    expect(await text(peeked.body)).toBe('  [\n  {"a":1},{"b":2}]');
  });

  it('gives up looking after 64 KiB of whitespace and counts it as data', async () => {
    const spaces = Buffer.alloc(70 * 1024, 0x20);

    const peeked = await peekJsonArray(Readable.from([spaces.subarray(0, 40_000), spaces.subarray(40_000)]));

    expect(peeked.shape).toBe('data');
  });

  it('rejects with the error of a source that fails before it can tell', async () => {
    const source = new Readable({ read() {} });
    source.push(Buffer.from(' '));
    setImmediate(() => source.destroy(new PceUnavailable('cut off')));

    await expect(peekJsonArray(source)).rejects.toBeInstanceOf(PceUnavailable);
  });

  it('passes on the error of a source that fails after the answer', async () => {
    const source = new Readable({ read() {} });
    source.push(Buffer.from('[{"a":1},'));
    const peeked = await peekJsonArray(source);
    setImmediate(() => source.destroy(new PceUnavailable('cut off')));

    await expect(text(peeked.body)).rejects.toBeInstanceOf(PceUnavailable);
  });
});
