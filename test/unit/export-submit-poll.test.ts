import { describe, expect, it, vi } from 'vitest';
import { ExportConfigError } from '../../lambdas/contracts/errors';
import type { SubmitEvent, WorkflowState } from '../../lambdas/contracts/state';
import type { ExportLogger } from '../../lambdas/export/logger';
import { pollExport } from '../../lambdas/export/poll-job';
import { submitExport } from '../../lambdas/export/submit-job';
import type { PceClient } from '../../lambdas/pce/client';
import { PceAuthError, PceProtocolError } from '../../lambdas/pce/errors';
import type { PollResult } from '../../lambdas/pce/jobs';
import { unusedJobs } from '../support/fake-pce';

const JOB = '/orgs/1/jobs/8f3c0a52-1d8e-4a3e-9f4b-2c1d0e9f8a7b';
const DATAFILE = '/orgs/1/datafiles/5a1f6d2e-7c3b-4e8a-b9d0-1f2e3d4c5b6a';
const T0 = new Date('2026-03-04T05:06:08.000Z');

function fakeClient(poll?: Partial<PollResult>) {
  return {
    collections: {
      submit: vi.fn(async () => ({ jobHref: JOB, retryAfterSeconds: 10 })),
      poll: vi.fn(async (): Promise<PollResult> => ({ status: 'running', retryAfterSeconds: 10, ...poll })),
      open: vi.fn(),
      delete: vi.fn(async () => undefined),
    },
    traffic: unusedJobs('traffic query'),
    close: vi.fn(async () => undefined),
  } satisfies PceClient;
}

function logger(): ExportLogger {
  return { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
}

const execution = { name: 'nightly-2026-03-04', startTime: '2026-03-04T05:06:07.890Z' };

describe('submitExport', () => {
  function deps(client: PceClient, configuredExports = {}) {
    const connect = vi.fn(async () => client);
    return {
      connect,
      deps: {
        connect,
        configuredExports,
        poll: { maxIntervalSeconds: 300, maxPolls: 1000 },
        logger: logger(),
        now: () => T0,
      },
    };
  }

  it('submits the collection and returns the first pending state', async () => {
    const client = fakeClient();
    const event: SubmitEvent = {
      input: { path: '/workloads', query: { managed: 'true' }, maxWaitSeconds: 600 },
      execution,
    };

    const state = await submitExport(event, deps(client).deps);

    expect(client.collections.submit).toHaveBeenCalledWith({
      path: '/workloads',
      query: { managed: 'true' },
    });
    expect(state).toEqual({
      export: {
        name: 'workloads',
        path: '/workloads',
        query: { managed: 'true' },
        format: 'ndjson',
        gzip: true,
        maxWaitSeconds: 600,
      },
      execution,
      job: {
        href: JOB,
        status: 'pending',
        polls: 0,
        waitSeconds: 10,
        retryAfterSeconds: 10,
        requestedAt: '2026-03-04T05:06:08.000Z',
        deadline: '2026-03-04T05:16:08.000Z',
        timedOut: false,
        retries: { submit: 0, poll: 0, fetch: 0 },
      },
    });
  });

  it('fills the request from a configured export, with input fields overriding it', async () => {
    const client = fakeClient();
    const configured = {
      labels: { path: '/labels', format: 'raw' as const, gzip: false, query: { key: 'role' } },
    };

    const state = await submitExport(
      { input: { exportName: 'labels', gzip: true }, execution },
      deps(client, configured).deps,
    );

    expect(client.collections.submit).toHaveBeenCalledWith({ path: '/labels', query: { key: 'role' } });
    expect(state.export).toEqual({
      name: 'labels',
      path: '/labels',
      query: { key: 'role' },
      format: 'raw',
      gzip: true,
      maxWaitSeconds: 3600,
    });
  });

  it('caps the first wait at the maximum wait of the export', async () => {
    const client = fakeClient();
    client.collections.submit.mockResolvedValue({ jobHref: JOB, retryAfterSeconds: 300 });

    const state = await submitExport(
      { input: { path: '/labels', maxWaitSeconds: 30 }, execution },
      deps(client).deps,
    );

    expect(state.job.waitSeconds).toBe(30);
  });

  it.each([
    ['an unknown field', { path: '/labels', bogus: 1 }, 'input has unknown field(s) bogus'],
    ['a non-collection path', { path: '/orgs/1/labels' }, 'input.path'],
    ['a "?" in the path', { path: '/labels?x=1' }, 'input.path'],
    ['a "#" in a query value', { path: '/labels', query: { key: 'a#b' } }, 'input.query.key'],
    [
      'path traversal in a query value',
      { path: '/labels', query: { key: '../../users' } },
      'input.query.key',
    ],
    ['a bad format', { path: '/labels', format: 'csv' }, 'input.format'],
    ['an unconfigured export name', { exportName: 'nope' }, 'export "nope" is not configured'],
    ['no path and no export name', {}, 'input.path is required'],
  ])('rejects %s with ExportConfigError and sends nothing to the PCE', async (_what, input, named) => {
    const client = fakeClient();
    const { connect, deps: d } = deps(client);

    const error = await submitExport({ input, execution }, d).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ExportConfigError);
    expect((error as Error).message).toContain(named);
    expect(connect).not.toHaveBeenCalled();
    expect(client.collections.submit).not.toHaveBeenCalled();
  });

  it('rejects an event without execution context', async () => {
    const client = fakeClient();

    await expect(
      submitExport({ input: { path: '/labels' } } as unknown as SubmitEvent, deps(client).deps),
    ).rejects.toThrow(/execution/);
    expect(client.collections.submit).not.toHaveBeenCalled();
  });

  it('lets PCE errors through unchanged', async () => {
    const client = fakeClient();
    const denied = new PceAuthError('401 from /orgs/1/labels', { status: 401 });
    client.collections.submit.mockRejectedValue(denied);

    await expect(submitExport({ input: { path: '/labels' }, execution }, deps(client).deps)).rejects.toBe(
      denied,
    );
  });
});

describe('pollExport', () => {
  function state(job: Partial<WorkflowState['job']> = {}): WorkflowState {
    return {
      export: {
        name: 'workloads',
        path: '/workloads',
        query: {},
        format: 'ndjson',
        gzip: true,
        maxWaitSeconds: 600,
      },
      execution,
      job: {
        href: JOB,
        status: 'pending',
        polls: 0,
        waitSeconds: 10,
        retryAfterSeconds: 10,
        requestedAt: T0.toISOString(),
        deadline: new Date(T0.getTime() + 600_000).toISOString(),
        timedOut: false,
        ...job,
      },
    };
  }

  function deps(client: PceClient, at: Date, maxPolls = 1000) {
    return {
      connect: async () => client,
      poll: { maxIntervalSeconds: 300, maxPolls },
      logger: logger(),
      now: () => at,
    };
  }

  const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

  it('reports a running job with the next wait and one more poll', async () => {
    const client = fakeClient({ status: 'running', retryAfterSeconds: 10 });

    const next = await pollExport(state({ polls: 3 }), deps(client, at(60)));

    expect(client.collections.poll).toHaveBeenCalledWith(JOB);
    expect(next.job).toMatchObject({
      status: 'running',
      polls: 4,
      waitSeconds: 25,
      retryAfterSeconds: 10,
      timedOut: false,
    });
    expect(next.job.message).toBeUndefined();
    expect(next.export).toEqual(state().export);
  });

  it('reports a done job with its datafile href', async () => {
    const client = fakeClient({ status: 'done', resultHref: DATAFILE, retryAfterSeconds: 1 });

    const next = await pollExport(state({ polls: 1 }), deps(client, at(20)));

    expect(next.job).toMatchObject({ status: 'done', polls: 2, resultHref: DATAFILE, timedOut: false });
  });

  it('throws PceProtocolError when a done job names no datafile', async () => {
    const client = fakeClient({ status: 'done' });

    await expect(pollExport(state(), deps(client, at(20)))).rejects.toBeInstanceOf(PceProtocolError);
  });

  it('reports a failed job with the PCE message', async () => {
    const client = fakeClient({ status: 'failed', message: 'Invalid filter: max_results' });

    const next = await pollExport(state(), deps(client, at(20)));

    expect(next.job).toMatchObject({
      status: 'failed',
      timedOut: false,
      message: `PCE job ${JOB} failed: Invalid filter: max_results`,
    });
  });

  it('says so when a failed job has no message', async () => {
    const client = fakeClient({ status: 'failed' });

    const next = await pollExport(state(), deps(client, at(20)));

    expect(next.job.message).toBe(`PCE job ${JOB} failed: the PCE gave no reason`);
  });

  it('times out a running job once the deadline has passed', async () => {
    const client = fakeClient({ status: 'running' });

    const next = await pollExport(state({ polls: 41 }), deps(client, at(600)));

    expect(next.job).toMatchObject({
      status: 'running',
      polls: 42,
      timedOut: true,
      message: `PCE job ${JOB} did not finish within 600 seconds (status running after 42 polls)`,
    });
  });

  it('times out a pending job once the poll limit is reached', async () => {
    const client = fakeClient({ status: 'pending' });

    const next = await pollExport(state({ polls: 4 }), deps(client, at(100), 5));

    expect(next.job.timedOut).toBe(true);
    expect(next.job.message).toBe(
      `PCE job ${JOB} did not finish within 5 polls (status pending after 100 seconds)`,
    );
  });

  it('does not time out a job that finished at the deadline', async () => {
    const client = fakeClient({ status: 'done', resultHref: DATAFILE });

    const next = await pollExport(state({ polls: 999 }), deps(client, at(700)));

    expect(next.job).toMatchObject({ status: 'done', timedOut: false });
  });

  it('keeps the next wait within the deadline', async () => {
    const client = fakeClient({ status: 'running', retryAfterSeconds: 60 });

    const next = await pollExport(state(), deps(client, at(590)));

    expect(next.job.waitSeconds).toBe(10);
    expect(next.job.timedOut).toBe(false);
  });
});
