import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_EXECUTION_HISTORY_EVENTS, MAX_SNAPSHOT_MEMBERS } from '../../lambdas/contracts/limits';
import type { SnapshotOutput } from '../../lambdas/contracts/output';
import type { WorkflowState } from '../../lambdas/contracts/state';
import type { ExecutionRecord } from '../../local/execution';
import { type Harness, startHarness, succeeded } from './harness';

/*
 * The largest snapshot the input allows, on simulated time: every member is a child execution
 * of the ExportSnapshot Distributed Map, with its own history, so the parent's history does not
 * grow with the members' polls. The simulator runs on its manual clock; each SnapshotWaitForJob
 * a member enters moves it ahead by the seconds the PCE asked for (150 s), and the Wait takes no
 * real time (waitTimeOverrides). Members share the clock, so a member sees its job end after
 * fewer of its own polls than a job of that length alone would take.
 */

const WAITS = ['SnapshotWaitForJob', 'SnapshotWaitToSubmit', 'SnapshotWaitToFetch'] as const;
const NAMES = Array.from(
  { length: MAX_SNAPSHOT_MEMBERS },
  (_, i) => `member-${String(i + 1).padStart(2, '0')}`,
);
const EXPORTS = Object.fromEntries(NAMES.map((name) => [name, { exportName: name, path: '/labels' }]));

/** `step`: how far a member's SnapshotWaitForJob moves the clock, from the seconds it asked for. */
async function runSnapshot(h: Harness, step: (seconds: number) => number) {
  return h.run(
    { snapshot: { name: 'largest', exports: NAMES } },
    {
      exports: EXPORTS,
      waitTimeOverrides: Object.fromEntries(WAITS.map((name) => [name, 0])),
      onEvent: (event) => {
        if (event.type !== 'StateEntered' || event.state?.name !== 'SnapshotWaitForJob') return;
        const state = event.state.input as Partial<WorkflowState>;
        void h.simulator.clock.advance(step(state.job?.waitSeconds ?? 0) * 1000);
      },
    },
  );
}

const polls = (child: ExecutionRecord) => (child.output as { polls?: number } | undefined)?.polls ?? 0;

describe(`a snapshot of ${MAX_SNAPSHOT_MEMBERS} members`, () => {
  let quick: Awaited<ReturnType<typeof runSnapshot>>;
  let slow: Awaited<ReturnType<typeof runSnapshot>>;

  beforeAll(async () => {
    // Two-hour jobs polled every 150 s; in the quick run each wait moves the clock past the job's end.
    const h = await startHarness({ clock: 'manual', jobDurationMs: 2 * 3600_000, retryAfterSeconds: 150 });
    try {
      quick = await runSnapshot(h, () => 2 * 3600);
      slow = await runSnapshot(h, (seconds) => seconds);
    } finally {
      await h.close();
    }
  }, 600_000);

  it('stores every member, each run as a child execution', () => {
    for (const outcome of [quick, slow]) {
      expect(succeeded<SnapshotOutput>(outcome).objects).toHaveLength(MAX_SNAPSHOT_MEMBERS);
      expect(outcome.children).toHaveLength(MAX_SNAPSHOT_MEMBERS);
      expect(outcome.children.every((child) => child.status === 'SUCCEEDED')).toBe(true);
    }
  });

  it("keeps the parent's history well under 25,000 events and the same however often the members poll", () => {
    const quickPolls = quick.children.reduce((sum, child) => sum + polls(child), 0);
    const slowPolls = slow.children.reduce((sum, child) => sum + polls(child), 0);
    expect(slowPolls).toBeGreaterThan(quickPolls * 2);
    expect(slow.history.events).toBe(quick.history.events);
    expect(slow.history.events).toBeLessThan(MAX_EXECUTION_HISTORY_EVENTS / 100);
    expect(slow.history.byType.MapRunStarted).toBe(1);
    expect(slow.history.byType.LambdaFunctionScheduled).toBe(2);
  });

  it('gives each member a history of its own, under 25,000 events, that grows with its polls', () => {
    for (const child of slow.children)
      expect(child.history.events).toBeLessThan(MAX_EXECUTION_HISTORY_EVENTS);
    const most = slow.children.reduce((a, b) => (polls(b) > polls(a) ? b : a));
    const least = quick.children.reduce((a, b) => (polls(b) < polls(a) ? b : a));
    expect(most.history.events).toBeGreaterThan(least.history.events);
  });
});
