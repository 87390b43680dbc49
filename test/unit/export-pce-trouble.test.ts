import { Readable } from 'node:stream';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { SubmitRetryState, WorkflowState } from '../../lambdas/contracts/state';
import { fetchStep } from '../../lambdas/export/fetch-export';
import type { ExportLogger } from '../../lambdas/export/logger';
import { describeTrouble, troubleWaitSeconds } from '../../lambdas/export/pce-trouble';
import { pollExport } from '../../lambdas/export/poll-job';
import { submitStep } from '../../lambdas/export/submit-job';
import { parseSubmitRetryState, parseWorkflowState } from '../../lambdas/export/workflow';
import type { PceClient } from '../../lambdas/pce/client';
import { PceAuthError, PceProtocolError, PceRateLimited, PceUnavailable } from '../../lambdas/pce/errors';
import type { PollResult } from '../../lambdas/pce/jobs';
import { unusedJobs } from '../support/fake-pce';
import { mockedS3 } from '../support/s3-mock';

/*
 * Transient PCE trouble in Submit, Poll and Fetch: the state comes back with the trouble noted
 * and a wait, the job as it was, until the step's bound; permanent answers stay errors.
 */

const JOB = '/orgs/1/jobs/8f3c0a52-1d8e-4a3e-9f4b-2c1d0e9f8a7b';
const DATAFILE = '/orgs/1/datafiles/5a1f6d2e-7c3b-4e8a-b9d0-1f2e3d4c5b6a';
const T0 = Date.parse('2026-03-04T05:06:08.000Z');
const at = (seconds: number) => () => new Date(T0 + seconds * 1000);
const execution = { name: 'nightly', startTime: '2026-03-04T05:06:07.890Z' };

const unavailable503 = () =>
  new PceUnavailable(`GET ${JOB} returned 503 Service Unavailable; retry after 20 s`, {
    status: 503,
    href: JOB,
    retryAfterSeconds: 20,
  });
const reset = () =>
  new PceUnavailable(`GET ${JOB} failed: the PCE reset the connection (ECONNRESET)`, {
    href: JOB,
    cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
  });
const throttled = () =>
  new PceRateLimited(`GET ${JOB} returned 429 Too Many Requests; retry after 2 s`, {
    status: 429,
    retryAfterSeconds: 2,
  });

/** What a promise that must fail rejects with. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a failure, got ${JSON.stringify(outcome.value)}`);
  return outcome.error as Error;
}

function logger(): ExportLogger {
  return { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
}

function client() {
  return {
    collections: {
      submit: vi.fn(async () => ({ jobHref: JOB, retryAfterSeconds: 5 })),
      poll: vi.fn(async (): Promise<PollResult> => ({ status: 'running', retryAfterSeconds: 5 })),
      open: vi.fn(async () => ({ body: Readable.from([Buffer.from('[{"a":1}]')]) })),
      delete: vi.fn(async () => undefined),
    },
    traffic: unusedJobs('traffic query'),
    close: vi.fn(async () => undefined),
  } satisfies PceClient;
}

function jobState(job: Partial<WorkflowState['job']> = {}): WorkflowState {
  return {
    export: {
      name: 'labels',
      path: '/labels',
      query: {},
      format: 'ndjson',
      gzip: false,
      maxWaitSeconds: 600,
    },
    execution,
    job: {
      href: JOB,
      status: 'running',
      polls: 2,
      waitSeconds: 5,
      retryAfterSeconds: 5,
      requestedAt: new Date(T0).toISOString(),
      deadline: new Date(T0 + 600_000).toISOString(),
      timedOut: false,
      retries: { submit: 0, poll: 0, fetch: 0 },
      ...job,
    },
  };
}

describe('the wait after transient trouble', () => {
  it('is the backoff, 5 s doubling to 60 s, or the Retry-After when that is longer', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => troubleWaitSeconds(n, undefined, 300))).toEqual([
      5, 10, 20, 40, 60, 60, 60,
    ]);
    expect(troubleWaitSeconds(1, 20, 300)).toBe(20);
    expect(troubleWaitSeconds(5, 1, 300)).toBe(60);
    expect(troubleWaitSeconds(1, 300, 90)).toBe(90);
  });

  it('says what the trouble is in a few words', () => {
    expect(describeTrouble({ error: 'PceUnavailable', status: 503 })).toBe('PCE unavailable (503)');
    expect(describeTrouble({ error: 'PceUnavailable', code: 'ECONNRESET' })).toBe(
      'PCE unavailable (ECONNRESET)',
    );
    expect(describeTrouble({ error: 'PceRateLimited', status: 429 })).toBe('PCE rate limited (429)');
  });
});

describe('Poll on a PCE that cannot be reached', () => {
  const deps = (pce: PceClient, now: () => Date, maxPolls = 1000) => ({
    connect: async () => pce,
    poll: { maxIntervalSeconds: 300, maxPolls },
    logger: logger(),
    now,
  });

  it("leaves the job as it was and polls again after the PCE's Retry-After", async () => {
    const pce = client();
    pce.collections.poll.mockRejectedValueOnce(unavailable503());

    const next = await pollExport(jobState(), deps(pce, at(60)));

    expect(next.job).toMatchObject({
      href: JOB,
      status: 'running',
      polls: 3,
      waitSeconds: 20,
      retries: { submit: 0, poll: 1, fetch: 0 },
      unavailable: {
        error: 'PceUnavailable',
        status: 503,
        since: new Date(T0 + 60_000).toISOString(),
        attempts: 1,
      },
    });
    expect(parseWorkflowState(next, 1)).toEqual(next);
  });

  it('backs off on resets without a Retry-After and names the transport code', async () => {
    const pce = client();
    pce.collections.poll.mockRejectedValue(reset());
    let state = jobState();
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      state = await pollExport(state, deps(pce, at(60 + i * 10)));
      waits.push(state.job.waitSeconds);
    }

    expect(waits).toEqual([5, 10, 20, 40]);
    expect(state.job.unavailable).toMatchObject({
      code: 'ECONNRESET',
      attempts: 4,
      since: new Date(T0 + 60_000).toISOString(),
    });
  });

  it('clears the trouble on the next poll that reaches the PCE, keeping the count', async () => {
    const pce = client();
    pce.collections.poll.mockRejectedValueOnce(throttled());

    const troubled = await pollExport(jobState(), deps(pce, at(30)));
    const next = await pollExport(troubled, deps(pce, at(40)));

    expect(troubled.job.unavailable?.error).toBe('PceRateLimited');
    expect(next.job.unavailable).toBeUndefined();
    expect(next.job).toMatchObject({ status: 'running', polls: 4, retries: { poll: 1 } });
  });

  it('never waits past the deadline', async () => {
    const pce = client();
    pce.collections.poll.mockRejectedValue(unavailable503());

    const next = await pollExport(jobState(), deps(pce, at(590)));

    expect(next.job.waitSeconds).toBe(10);
  });

  it('throws the PceUnavailable once the deadline has passed, saying since when', async () => {
    const pce = client();
    pce.collections.poll.mockRejectedValue(unavailable503());
    const troubled = await pollExport(jobState(), deps(pce, at(500)));

    const error = await rejection(pollExport(troubled, deps(pce, at(601))));

    expect(error).toBeInstanceOf(PceUnavailable);
    expect(error.message).toContain('503 Service Unavailable');
    expect(error.message).toContain(`since ${new Date(T0 + 500_000).toISOString()} (2 polls)`);
    expect(error.message).toContain("the export's deadline");
  });

  it('throws at the poll limit', async () => {
    const pce = client();
    pce.collections.poll.mockRejectedValue(throttled());

    await expect(pollExport(jobState({ polls: 9 }), deps(pce, at(30), 10))).rejects.toThrow(
      /polled 10 times, the most allowed/,
    );
  });

  it.each([
    ['401/403', new PceAuthError('401', { status: 401 })],
    ['a protocol error', new PceProtocolError('not a job')],
  ])('fails at once on %s', async (_, permanent) => {
    const pce = client();
    pce.collections.poll.mockRejectedValue(permanent);

    await expect(pollExport(jobState(), deps(pce, at(30)))).rejects.toBe(permanent);
  });
});

describe('Submit on a PCE that cannot take the job', () => {
  const deps = (pce: PceClient, now: () => Date, retryWindowSeconds = 600) => ({
    connect: async () => pce,
    configuredExports: {},
    poll: { maxIntervalSeconds: 300, maxPolls: 1000 },
    submit: { retryWindowSeconds },
    logger: logger(),
    now,
  });

  it('hands the request back with a wait, then submits it again and counts the retries', async () => {
    const pce = client();
    pce.collections.submit.mockRejectedValueOnce(unavailable503()).mockRejectedValueOnce(reset());

    const first = (await submitStep(
      { input: { path: '/labels' }, execution },
      deps(pce, at(0)),
    )) as SubmitRetryState;
    const second = (await submitStep(parseSubmitRetryState(first), deps(pce, at(20)))) as SubmitRetryState;
    const accepted = await submitStep(parseSubmitRetryState(second), deps(pce, at(30)));

    expect(first.submit).toMatchObject({
      attempts: 1,
      waitSeconds: 20,
      firstAttemptAt: new Date(T0).toISOString(),
      windowEndsAt: new Date(T0 + 600_000).toISOString(),
      unavailable: { status: 503 },
    });
    expect(second.submit).toMatchObject({
      attempts: 2,
      waitSeconds: 10,
      unavailable: { code: 'ECONNRESET' },
    });
    expect(accepted).toMatchObject({
      job: { href: JOB, status: 'pending', retries: { submit: 2, poll: 0, fetch: 0 } },
    });
    expect(pce.collections.submit).toHaveBeenCalledTimes(3);
  });

  it('never waits past the end of its retry window, and fails with the PCE error once it is over', async () => {
    const pce = client();
    pce.collections.submit.mockRejectedValue(unavailable503());

    const late = (await submitStep(
      { input: { path: '/labels' }, execution },
      deps(pce, at(0), 15),
    )) as SubmitRetryState;
    const error = await rejection(submitStep(parseSubmitRetryState(late), deps(pce, at(15), 15)));

    expect(late.submit.waitSeconds).toBe(15);
    expect(error).toBeInstanceOf(PceUnavailable);
    expect(error.message).toMatch(
      /has not taken the job since .* \(2 submits within the 15 s retry window\)/,
    );
  });

  it('tries once with a window of 0', async () => {
    const pce = client();
    pce.collections.submit.mockRejectedValue(throttled());

    await expect(
      submitStep({ input: { path: '/labels' }, execution }, deps(pce, at(0), 0)),
    ).rejects.toBeInstanceOf(PceRateLimited);
    expect(pce.collections.submit).toHaveBeenCalledTimes(1);
  });

  it('fails at once on a permanent answer', async () => {
    const pce = client();
    const denied = new PceAuthError('401', { status: 401 });
    pce.collections.submit.mockRejectedValue(denied);

    await expect(submitStep({ input: { path: '/labels' }, execution }, deps(pce, at(0)))).rejects.toBe(
      denied,
    );
  });
});

describe('Fetch of a result the PCE cuts short', () => {
  const { s3, s3Mock } = mockedS3();
  beforeEach(() => {
    s3Mock.reset();
    s3Mock.on(PutObjectCommand).resolves({ ETag: '"etag"' });
  });
  const deps = (pce: PceClient, now: () => Date) => ({
    connect: async () => pce,
    s3,
    storage: { bucket: 'exports', prefix: 'pce/', partSizeBytes: 5 * 1024 * 1024, queueSize: 1 },
    orgId: 1,
    logger: logger(),
    now,
  });
  const done = (job: Partial<WorkflowState['job']> = {}) =>
    jobState({ status: 'done', resultHref: DATAFILE, ...job });

  it('hands the state back to download again, writing nothing, then stores the result', async () => {
    const pce = client();
    pce.collections.open.mockRejectedValueOnce(reset());

    const again = await fetchStep(done(), deps(pce, at(60)));
    expect(s3Mock.calls()).toHaveLength(0);
    const output = await fetchStep(again as WorkflowState, deps(pce, at(70)));

    expect(again).toMatchObject({
      job: { waitSeconds: 5, retries: { fetch: 1 }, unavailable: { code: 'ECONNRESET' } },
    });
    expect(output).toMatchObject({ objectCount: 1, retries: { submit: 0, poll: 0, fetch: 1 } });
  });

  it('downloads again at least three times past the deadline, then fails with the PCE error', async () => {
    const pce = client();
    pce.collections.open.mockRejectedValue(unavailable503());
    let state = done();
    for (let i = 0; i < 2; i++) state = (await fetchStep(state, deps(pce, at(700 + i)))) as WorkflowState;

    const error = await rejection(fetchStep(state, deps(pce, at(710))));

    expect(state.job.retries?.fetch).toBe(2);
    expect(error).toBeInstanceOf(PceUnavailable);
    expect(error.message).toMatch(/3 downloads failed since .*, and the export's deadline .* has passed/);
  });

  it('stops after ten failed downloads whatever the deadline', async () => {
    const pce = client();
    pce.collections.open.mockRejectedValue(reset());
    const state = done({
      deadline: new Date(T0 + 86_400_000).toISOString(),
      retries: { submit: 0, poll: 0, fetch: 9 },
    });

    await expect(fetchStep(state, deps(pce, at(60)))).rejects.toThrow(
      /10 downloads failed since .*, the most Fetch makes/,
    );
  });
});
