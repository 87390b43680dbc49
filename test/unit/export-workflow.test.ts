import { describe, expect, it } from 'vitest';
import { ExportConfigError } from '../../lambdas/contracts/errors';
import type { WorkflowState } from '../../lambdas/contracts/state';
import {
  nextWaitSeconds,
  POLL_GRACE_SECONDS,
  parseExecution,
  parseWorkflowState,
} from '../../lambdas/export/workflow';
import { configError } from '../support/errors';

describe('nextWaitSeconds', () => {
  const base = { maxIntervalSeconds: 300 };

  it('honours Retry-After during the grace period after submit', () => {
    expect(POLL_GRACE_SECONDS).toBe(10);
    expect(nextWaitSeconds({ ...base, retryAfterSeconds: 7, elapsedSeconds: 0 })).toBe(7);
    expect(nextWaitSeconds({ ...base, retryAfterSeconds: 1, elapsedSeconds: 9.5 })).toBe(1);
    expect(nextWaitSeconds({ ...base, retryAfterSeconds: 1, elapsedSeconds: 12 })).toBe(1);
  });

  it('then waits half the time the job has run past the grace period, rounded', () => {
    expect(nextWaitSeconds({ ...base, retryAfterSeconds: 1, elapsedSeconds: 15 })).toBe(3); // 2.5
    expect(nextWaitSeconds({ ...base, retryAfterSeconds: 1, elapsedSeconds: 40 })).toBe(15);
    expect(nextWaitSeconds({ ...base, retryAfterSeconds: 10, elapsedSeconds: 60 })).toBe(25);
  });

  it('never waits less than Retry-After', () => {
    expect(nextWaitSeconds({ ...base, retryAfterSeconds: 30, elapsedSeconds: 40 })).toBe(30);
  });

  it('caps the wait at the maximum interval', () => {
    expect(nextWaitSeconds({ retryAfterSeconds: 10, elapsedSeconds: 600, maxIntervalSeconds: 120 })).toBe(
      120,
    );
    expect(nextWaitSeconds({ retryAfterSeconds: 900, elapsedSeconds: 0, maxIntervalSeconds: 300 })).toBe(300);
    expect(nextWaitSeconds({ retryAfterSeconds: 10, elapsedSeconds: 86_400, maxIntervalSeconds: 300 })).toBe(
      300,
    );
  });

  it('never waits past the deadline', () => {
    expect(
      nextWaitSeconds({ ...base, retryAfterSeconds: 60, elapsedSeconds: 5, secondsToDeadline: 42.9 }),
    ).toBe(42);
  });

  it('waits at least one second, even at or past the deadline', () => {
    expect(nextWaitSeconds({ ...base, retryAfterSeconds: 0, elapsedSeconds: 5 })).toBe(1);
    expect(nextWaitSeconds({ ...base, retryAfterSeconds: 0.2, elapsedSeconds: 5 })).toBe(1);
    expect(
      nextWaitSeconds({ ...base, retryAfterSeconds: 30, elapsedSeconds: 5, secondsToDeadline: 0.4 }),
    ).toBe(1);
    expect(
      nextWaitSeconds({ ...base, retryAfterSeconds: 30, elapsedSeconds: 5, secondsToDeadline: -50 }),
    ).toBe(1);
  });

  it('treats an unusable Retry-After as one second and an unusable age as the grace period', () => {
    expect(nextWaitSeconds({ ...base, retryAfterSeconds: Number.NaN, elapsedSeconds: 5 })).toBe(1);
    expect(nextWaitSeconds({ ...base, retryAfterSeconds: -5, elapsedSeconds: 5 })).toBe(1);
    expect(nextWaitSeconds({ ...base, retryAfterSeconds: 5, elapsedSeconds: Number.NaN })).toBe(5);
  });
});

function validState(): WorkflowState {
  return {
    export: {
      name: 'workloads',
      path: '/workloads',
      query: { managed: 'true' },
      format: 'ndjson',
      gzip: true,
      maxWaitSeconds: 600,
    },
    execution: { name: 'run-1', startTime: '2026-03-04T05:06:07.890Z' },
    job: {
      href: '/orgs/1/jobs/8f3c0a52-1d8e-4a3e-9f4b-2c1d0e9f8a7b',
      status: 'done',
      polls: 3,
      waitSeconds: 5,
      retryAfterSeconds: 5,
      requestedAt: '2026-03-04T05:06:08.000Z',
      deadline: '2026-03-04T05:16:08.000Z',
      timedOut: false,
      resultHref: '/orgs/1/datafiles/5a1f6d2e-7c3b-4e8a-b9d0-1f2e3d4c5b6a',
    },
  };
}

function rejection(value: unknown): string {
  return configError(() => parseWorkflowState(value, 1));
}

describe('parseWorkflowState', () => {
  it('accepts the state Submit and Poll produce', () => {
    const state = validState();

    expect(parseWorkflowState(state, 1)).toEqual(state);
  });

  it('drops keys it does not know', () => {
    const parsed = parseWorkflowState({ ...validState(), extra: { big: true } }, 1);

    expect(parsed).not.toHaveProperty('extra');
  });

  it('rejects a job href on another org', () => {
    const state = validState();

    expect(rejection({ ...state, job: { ...state.job, href: '/orgs/2/jobs/abc' } })).toContain(
      'state.job.href belongs to org 2, not the configured org 1',
    );
  });

  it('rejects a result href that is not a datafile', () => {
    const state = validState();

    expect(rejection({ ...state, job: { ...state.job, resultHref: '/orgs/1/workloads' } })).toContain(
      'state.job.resultHref',
    );
  });

  it('rejects a tampered job href', () => {
    const state = validState();

    expect(rejection({ ...state, job: { ...state.job, href: '/orgs/1/jobs/../../users' } })).toContain(
      'state.job.href',
    );
    expect(
      rejection({ ...state, job: { ...state.job, href: 'https://evil.example.com/orgs/1/jobs/x' } }),
    ).toContain('state.job.href');
  });

  it('rejects a path or query that could change the request', () => {
    const state = validState();

    expect(rejection({ ...state, export: { ...state.export, path: '/workloads?x=1' } })).toContain(
      'state.export.path',
    );
    expect(rejection({ ...state, export: { ...state.export, query: { a: '../..' } } })).toContain(
      'state.export.query.a',
    );
  });

  it('rejects a non-ISO deadline and a missing job', () => {
    const state = validState();

    expect(rejection({ ...state, job: { ...state.job, deadline: 'tomorrow' } })).toContain(
      'state.job.deadline',
    );
    expect(rejection({ export: state.export, execution: state.execution })).toContain('state.job');
  });
});

describe('parseExecution', () => {
  it('accepts the execution name and start time', () => {
    expect(parseExecution({ name: 'x', startTime: '2026-01-01T00:00:00Z' })).toEqual({
      name: 'x',
      startTime: '2026-01-01T00:00:00Z',
    });
  });

  it('rejects a missing execution with ExportConfigError', () => {
    expect(() => parseExecution(undefined)).toThrow(ExportConfigError);
    expect(() => parseExecution({ name: '', startTime: '2026-01-01T00:00:00Z' })).toThrow(/execution\.name/);
  });
});
