import { PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { TrafficRunState, WindowState } from '../../lambdas/contracts/traffic-run';
import { resolveExportRequest } from '../../lambdas/export/input';
import type { ExportLogger } from '../../lambdas/export/logger';
import { planTrafficStep } from '../../lambdas/export/traffic/run-steps';
import { pollWindowStep, submitWindowStep } from '../../lambdas/export/traffic/window-steps';
import type { TrafficRunClient } from '../../lambdas/pce/client';
import { PceAuthError, PceUnavailable } from '../../lambdas/pce/errors';
import { mockedS3 } from '../support/s3-mock';

const T0 = new Date('2026-03-02T01:00:00.000Z');
const HREF = '/orgs/1/traffic_flows/async_queries/0b7e1a52-5d2f-4a8e-9d4b-2f1c3e4d5a6b';
const { s3, s3Mock } = mockedS3();

function logger() {
  return { info: vi.fn(), warn: vi.fn(), error: vi.fn(), debug: vi.fn() } as unknown as ExportLogger & {
    warn: ReturnType<typeof vi.fn>;
  };
}

function client(traffic: Partial<TrafficRunClient['traffic']>): TrafficRunClient {
  return { traffic, labels: {}, close: async () => {} } as unknown as TrafficRunClient;
}

async function planned(maxWaitSeconds = 600): Promise<TrafficRunState> {
  const request = resolveExportRequest(
    {
      kind: 'traffic',
      traffic: { start: '2026-03-01T00:00:00Z', end: '2026-03-02T00:00:00Z' },
      maxWaitSeconds,
    },
    {},
  );
  const state = await planTrafficStep(
    { export: request, execution: { name: 'exec-1', startTime: T0.toISOString() }, fanOut: 'traffic' },
    {
      connect: async () => client({}),
      s3,
      storage: { bucket: 'b', prefix: 'pce/' },
      orgId: 1,
      logger: logger(),
      now: () => T0,
    },
  );
  if (!('round' in state)) throw new Error('plan did not plan');
  return state;
}

function deps(c: TrafficRunClient, now: Date, log = logger()) {
  return {
    connect: async () => c,
    s3,
    bucket: 'b',
    poll: { maxIntervalSeconds: 300, maxPolls: 1000 },
    logger: log,
    orgId: 1,
    now: () => now,
  };
}

async function polling(maxWaitSeconds?: number): Promise<WindowState> {
  const { run, round } = await planned(maxWaitSeconds);
  const window = round.windows[0];
  if (window === undefined) throw new Error('no window');
  return {
    run,
    window,
    job: {
      href: HREF,
      status: 'running',
      polls: 1,
      waitSeconds: 5,
      requestedAt: T0.toISOString(),
      deadline: run.deadline,
      timedOut: false,
    },
  };
}

describe('a traffic window through PCE trouble', () => {
  beforeEach(() => {
    s3Mock.reset();
    s3Mock.onAnyCommand().resolves({});
  });

  it('fixes one run deadline at plan time, maxWaitSeconds from then', async () => {
    const { run } = await planned(600);
    expect(run.deadline).toBe(new Date(T0.getTime() + 600_000).toISOString());
  });

  it('keeps the query as it was and polls again after the backoff when a poll gets 503', async () => {
    const state = await polling();
    const log = logger();
    const poll = vi.fn().mockRejectedValue(new PceUnavailable('PCE answered 503', { status: 503 }));

    const next = await pollWindowStep(state, deps(client({ poll }), T0, log));

    expect(next.outcome).toBeUndefined();
    expect(next.job).toMatchObject({ status: 'running', polls: 2, waitSeconds: 5, retries: { poll: 1 } });
    expect(next.job?.unavailable).toMatchObject({ error: 'PceUnavailable', status: 503, attempts: 1 });
    expect(log.warn).toHaveBeenCalledWith('PCE unavailable (503); polling again in 5 s', expect.anything());
  });

  it('ends the window as PceJobTimeout past the run deadline, deleting its query', async () => {
    const state = await polling(60);
    const poll = vi.fn().mockRejectedValue(new PceUnavailable('PCE answered 503', { status: 503 }));
    const del = vi.fn().mockResolvedValue(undefined);

    const next = await pollWindowStep(
      state,
      deps(client({ poll, delete: del }), new Date(T0.getTime() + 61_000)),
    );

    expect(next.outcome).toBe('failed');
    expect(del).toHaveBeenCalledWith(HREF);
    const recorded = s3Mock.commandCalls(PutObjectCommand).map((call) => String(call.args[0].input.Body));
    expect(recorded.some((body) => body.includes('"PceJobTimeout"'))).toBe(true);
  });

  it('fails fast on a permanent answer: 401 is not waited out', async () => {
    const state = await polling();
    const poll = vi.fn().mockRejectedValue(new PceAuthError('PCE answered 401'));

    await expect(pollWindowStep(state, deps(client({ poll }), T0))).rejects.toBeInstanceOf(PceAuthError);
  });

  it('hands a window submit back with a wait when the PCE resets the connection', async () => {
    const { run, round } = await planned();
    const window = round.windows[0];
    if (window === undefined) throw new Error('no window');
    const submit = vi.fn().mockRejectedValue(new PceUnavailable('socket hang up'));
    const listByName = vi.fn().mockResolvedValue([]);

    const next = await submitWindowStep({ run, window }, deps(client({ submit, listByName }), T0));

    expect(next.submit).toMatchObject({ attempts: 1, waitSeconds: 5 });
    expect(next.job).toBeUndefined();
    expect(next.outcome).toBeUndefined();
  });
});
