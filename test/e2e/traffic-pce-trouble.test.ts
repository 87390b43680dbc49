import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createProgress } from '../../cli/progress';
import type { TrafficOutput, WindowState } from '../../lambdas/contracts/traffic-run';
import type { WorkflowEvent } from '../../local/runner';
import { fault } from '../../simulator/index';
import { failed, type Harness, PREFIX, startHarness, succeeded } from './harness';
import { callsTo, taskRetries } from './reliability-support';
import { duplicates, expectedKeys, missingFrom, storedFlows } from './traffic-support';

/*
 * A PCE restart, connection resets and 429 storms while a traffic run's windows are queried: the
 * run's steps wait them out in Wait states (no Step Functions retries) until the run's one
 * deadline. The simulator runs on the system clock with short queries (its traffic counts do not
 * finish on the manual clock), so the faults last a few real seconds; each Wait state takes
 * WAIT_MS of real time instead of the seconds it asks for, which the test records.
 */

const UNTIL = '2026-03-02T00:00:00.000Z';
const WAIT_MS = 250;
const OPTIONS = {
  jobDurationMs: 1500,
  retryAfterSeconds: 1,
  traffic: { flowsPerDay: 2400, days: 3, until: UNTIL },
};
const TRAFFIC = { start: '2026-03-01T00:00:00Z', end: UNTIL };
const WAITS = [
  'WaitToPlanTraffic',
  'TrafficWindowWaitToSubmit',
  'TrafficWindowWait',
  'TrafficWindowWaitToFetch',
] as const;

describe('a traffic run through PCE trouble, on simulated time', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(OPTIONS);
  });
  afterEach(() => h.reset());
  afterAll(async () => {
    await h?.close();
  });

  async function runOnSimulatedTime(input: Record<string, unknown>) {
    const events: WorkflowEvent[] = [];
    const waits: { state: string; seconds: number }[] = [];
    // The progress lines `pce-export run` prints: "Traffic window 1 poll 2: PCE unavailable (503); polling again in 5 s".
    const lines: string[] = [];
    const progress = createProgress({ io: { stdout: () => undefined, stderr: (line) => lines.push(line) } });
    const outcome = await h.run(input, {
      waitTimeOverrides: Object.fromEntries(WAITS.map((name) => [name, WAIT_MS])),
      onEvent: (event) => {
        events.push(event);
        progress.onEvent(event);
        const name = event.state?.name ?? '';
        if (event.type !== 'StateEntered' || !(WAITS as readonly string[]).includes(name)) return;
        const state = event.state?.input as Partial<WindowState> & { plan?: { waitSeconds: number } };
        const seconds =
          (name === 'TrafficWindowWaitToSubmit'
            ? state.submit?.waitSeconds
            : name === 'WaitToPlanTraffic'
              ? state.plan?.waitSeconds
              : state.job?.waitSeconds) ?? 0;
        waits.push({ state: name, seconds });
      },
    });
    return { outcome, events, waits, progress: lines.join('\n') };
  }

  const statuses = (endpoint: Parameters<typeof callsTo>[1]) =>
    callsTo(h.simulator.requests, endpoint).map((r) => r.status);

  async function expectEveryFlowOnce(output: TrafficOutput) {
    const { keys } = await storedFlows(h, output);
    const expected = expectedKeys(OPTIONS, TRAFFIC);
    expect(duplicates(keys)).toEqual([]);
    expect(missingFrom(expected, keys)).toEqual([]);
    expect(keys).toHaveLength(expected.length);
  }

  const queriesLeft = () => h.simulator.trafficQueries().filter((query) => query.deletedAt === undefined);

  it('polls a window through 3 s of 503 while its query runs, and exports every flow once', async () => {
    h.simulator.faults.add(
      fault.outage({ from: { request: 'traffic-poll', nth: 1 }, forMs: 3_000 }, { endpoint: 'traffic-poll' }),
    );

    const run = await runOnSimulatedTime({ kind: 'traffic', traffic: TRAFFIC, format: 'raw', gzip: false });

    const output = succeeded<TrafficOutput>(run.outcome);
    await expectEveryFlowOnce(output);
    const polls = statuses('traffic-poll');
    expect(polls.filter((status) => status === 503).length).toBeGreaterThanOrEqual(3);
    expect(polls.at(-1)).toBe(200);
    expect(run.waits.filter((w) => w.state === 'TrafficWindowWait').map((w) => w.seconds)).toContain(5);
    expect(run.progress).toMatch(
      /\] Traffic window \d+ poll \d+: PCE unavailable \(503\); polling again in \d+ s/,
    );
    expect(taskRetries(run.events)).toBe(0);
    expect(callsTo(h.simulator.requests, 'traffic-submit')).toHaveLength(1);
    expect(queriesLeft()).toEqual([]);
  });

  it('submits a window again through 2 s of connection resets: one query for the window, none left', async () => {
    h.simulator.faults.add(
      fault.resets(
        { from: { request: 'traffic-submit', nth: 1 }, forMs: 2_000 },
        { endpoint: 'traffic-submit' },
      ),
    );

    const run = await runOnSimulatedTime({ kind: 'traffic', traffic: TRAFFIC, gzip: false });

    const output = succeeded<TrafficOutput>(run.outcome);
    await expectEveryFlowOnce(output);
    const waits = run.waits.filter((w) => w.state === 'TrafficWindowWaitToSubmit').map((w) => w.seconds);
    expect(waits[0]).toBe(5);
    expect(run.progress).toMatch(
      /\] Traffic window \d+: PCE unavailable \([A-Z_]+\); submitting again in 5 s/,
    );
    const named = h.simulator
      .trafficQueries()
      .filter((query) => query.queryName === `pce-export traffic ${run.outcome.executionName} w0000`);
    expect(named).toHaveLength(1);
    expect(queriesLeft()).toEqual([]);
    expect(taskRetries(run.events)).toBe(0);
  });

  it.each([
    ['with a Retry-After of 30 s', { retryAfter: 30 }, 30],
    ['without a Retry-After', {}, undefined],
  ] as const)(
    'waits out a 429 storm on the window polls %s and exports every flow once',
    async (_, opts, wait) => {
      h.simulator.faults.add(
        fault.throttle(
          { from: { request: 'traffic-poll', nth: 1 }, forMs: 3_000 },
          { endpoint: 'traffic-poll', ...opts },
        ),
      );

      const run = await runOnSimulatedTime({ kind: 'traffic', traffic: TRAFFIC, gzip: false });

      const output = succeeded<TrafficOutput>(run.outcome);
      await expectEveryFlowOnce(output);
      expect(statuses('traffic-poll')).toContain(429);
      if (wait !== undefined)
        expect(run.progress).toContain(`PCE rate limited (429); polling again in ${wait} s`);
      expect(taskRetries(run.events)).toBe(0);
      expect(queriesLeft()).toEqual([]);
    },
  );

  it('fails with PceJobTimeout when the PCE stays down past the run deadline: no query left, nothing stored', async () => {
    h.simulator.faults.add(
      fault.outage(
        { from: { request: 'traffic-poll', nth: 1 }, forMs: 86_400_000 },
        { endpoint: 'traffic-poll' },
      ),
    );

    const run = await runOnSimulatedTime({
      exportName: 'down',
      kind: 'traffic',
      traffic: TRAFFIC,
      gzip: false,
      maxWaitSeconds: 2,
    });

    const error = failed(run.outcome);
    expect(error.error).toBe('PceJobTimeout');
    expect(error.cause).toMatch(/deadline/);
    expect(queriesLeft()).toEqual([]);
    const stored = (await h.listKeys(`${PREFIX}down/`)).filter((key) => !key.includes('/_'));
    expect(stored).toEqual([]);
  });
});
