import { describe, expect, it } from 'vitest';
import type { TrafficRequest } from '../../lambdas/contracts/traffic';
import type { TrafficRound, WindowResult, WindowSpec } from '../../lambdas/contracts/traffic-run';
import { describeIncomplete, planNextRound } from '../../lambdas/export/traffic/rounds';

const START = '2026-03-01T00:00:00.000Z';
const END = '2026-03-02T00:00:00.000Z';
const DONE = '2026-03-02T00:05:00.000Z';

const request = (extra: Partial<TrafficRequest> = {}): TrafficRequest => ({
  startDate: START,
  endDate: END,
  policyDecisions: ['blocked'],
  maxResults: 1000,
  sources: { include: [], exclude: [] },
  destinations: { include: [], exclude: [] },
  ...extra,
});

const root: WindowSpec = { id: 0, start: START, end: END, last: true };
const round = (windows: WindowSpec[], queries = windows.length): TrafficRound => ({
  number: 1,
  windows,
  queries,
});

function results(...entries: WindowResult[]): Map<number, WindowResult> {
  return new Map(entries.map((r) => [r.window.id, r]));
}

const stored = (window: WindowSpec): WindowResult => ({ window, status: 'stored', completedAt: DONE });
const truncated = (window: WindowSpec, matchesCount: number): WindowResult => ({
  window,
  status: 'truncated',
  flowsCount: 1000,
  matchesCount,
  completedAt: DONE,
});

describe('planNextRound', () => {
  it('is done when every window was stored', () => {
    const plan = planNextRound(round([root]), results(stored(root)), request());

    expect(plan).toEqual({ kind: 'next', windows: [], queries: 1, partial: [] });
  });

  it('replaces a truncated window by its parts, numbered after every window so far', () => {
    const slice = { ...root, id: 4 };
    const plan = planNextRound(
      round([stored(root).window, slice], 5),
      results(stored(root), truncated(slice, 2400)),
      request(),
    );

    expect(plan.kind).toBe('next');
    if (plan.kind !== 'next') return;
    expect(plan.windows.map((w) => [w.id, w.parent, w.parentMatches])).toEqual([
      [5, 4, 2400],
      [6, 4, 2400],
      [7, 4, 2400],
    ]);
    expect(plan.queries).toBe(8);
  });

  it('fails the run with the error of the first window that failed', () => {
    const other = { ...root, id: 1 };
    const plan = planNextRound(
      round([root, other]),
      results(truncated(root, 5000), {
        window: other,
        status: 'failed',
        error: { name: 'PceAuthError', message: 'GET … returned 401' },
        completedAt: DONE,
      }),
      request(),
    );

    expect(plan).toEqual({
      kind: 'failed',
      window: other,
      name: 'PceAuthError',
      message: 'GET … returned 401',
    });
  });

  it('fails with ExportInternalError for a window that recorded no result', () => {
    const plan = planNextRound(round([root]), results(), request());

    expect(plan).toMatchObject({ kind: 'failed', name: 'ExportInternalError' });
    expect(plan.kind === 'failed' && plan.message).toContain('ended without recording its result');
  });

  it('is incomplete when a window cannot be split any further', () => {
    const minimal: WindowSpec = {
      id: 9,
      start: START,
      end: '2026-03-01T00:01:00.000Z',
      last: false,
      decision: 'blocked',
      protocol: 'tcp',
      ports: [445, 445],
    };

    const plan = planNextRound(round([minimal], 10), results(truncated(minimal, 210_000)), request());

    expect(plan).toMatchObject({ kind: 'incomplete', maxResults: 1000 });
    if (plan.kind !== 'incomplete') return;
    expect(describeIncomplete(plan.windows, plan.maxResults)).toContain(
      'window 9 (2026-03-01T00:00:00.000Z..2026-03-01T00:01:00.000Z, blocked, TCP, port 445) holds 210000 flows, more than maxResults 1000, and cannot be split further',
    );
  });

  it('is incomplete when a split would pass the query limit', () => {
    const plan = planNextRound(round([root], 9), results(truncated(root, 5000)), request({ maxQueries: 10 }));

    expect(plan).toMatchObject({ kind: 'incomplete' });
    expect(plan.kind === 'incomplete' && plan.windows[0]?.reason).toContain(
      'limit of 10 queries (maxQueries)',
    );
  });

  it('queries an unsplittable window once more, to be stored as it is, when partial results are allowed', () => {
    const plan = planNextRound(
      round([root], 9),
      results(truncated(root, 5000)),
      request({ maxQueries: 10, allowPartial: true }),
    );

    expect(plan).toMatchObject({
      kind: 'next',
      windows: [{ ...root, id: 9, parent: 0, partial: true }],
      queries: 10,
    });
  });
});
