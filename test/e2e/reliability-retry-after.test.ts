import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ExportOutput } from '../../lambdas/contracts/output';
import type { JobState } from '../../lambdas/contracts/state';
import type { WorkflowEvent } from '../../local/runner';
import { fault } from '../../simulator/index';
import { type Harness, startHarness, succeeded } from './harness';
import { eventLog, failed } from './reliability-support';

/*
 * Retry-After is a hint from the PCE, never trusted unbounded: missing, negative, non-numeric or
 * absurd values give the configured default, an HTTP-date is honoured, and no Wait goes past the
 * deadline. These runs take real Wait durations (no overrides): the waits are what they measure.
 */

interface WaitDecision {
  readonly state: string;
  readonly retryAfterSeconds: number;
  readonly waitSeconds: number;
  /** Seconds from the state's exit to job.deadline. */
  readonly secondsLeft: number;
}

/** What Submit and each Poll decided about the next Wait, from their StateExited events. */
function waitDecisions(events: readonly WorkflowEvent[]): WaitDecision[] {
  return events
    .filter((e) => e.type === 'StateExited' && (e.state?.name === 'Submit' || e.state?.name === 'Poll'))
    .map((e) => {
      const { job } = (e.state?.output ?? {}) as { job: JobState };
      return {
        state: e.state?.name ?? '',
        retryAfterSeconds: job.retryAfterSeconds,
        waitSeconds: job.waitSeconds,
        secondsLeft: (Date.parse(job.deadline) - e.timestamp) / 1000,
      };
    });
}

/** At least a second, and never past the deadline (by more than rounding up to the next whole second). */
function expectWaitsWithinDeadline(decisions: readonly WaitDecision[]) {
  expect(decisions.length).toBeGreaterThan(0);
  for (const decision of decisions) {
    expect(decision.waitSeconds, JSON.stringify(decision)).toBeGreaterThanOrEqual(1);
    expect(decision.waitSeconds, JSON.stringify(decision)).toBeLessThanOrEqual(
      Math.max(1, Math.ceil(decision.secondsLeft)),
    );
  }
}

describe('Retry-After from the PCE, through the locally run workflow', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterEach(() => h.reset());
  afterAll(async () => {
    await h?.close();
  });

  describe('on the 202 Accepted', () => {
    // A default of 1 s keeps these runs short; a value taken at face value would show as up to 300 s.
    const env = { RETRY_AFTER_DEFAULT_SECONDS: '1' };

    it.each([
      ['missing', fault.retryAfterMissing(), [1, 1]],
      ['negative', fault.retryAfterNegative(), [1, 1]],
      ['not a number', fault.retryAfterGarbage(), [1, 1]],
      ['999999999 seconds', fault.retryAfterHuge(), [1, 1]],
      ['an HTTP-date in the year 2100', fault.retryAfter('Fri, 01 Jan 2100 00:00:00 GMT'), [1, 1]],
      ['an HTTP-date 3 s ahead', fault.retryAfterHttpDate(3), [2, 3]],
    ] as const)(
      'waits a bounded time before the first poll when the 202 Retry-After is %s',
      async (_, injected, [low, high]) => {
        h.simulator.faults.add(injected);
        const log = eventLog();

        const output = succeeded<ExportOutput>(
          await h.run({ path: '/labels', maxWaitSeconds: 60 }, { env, onEvent: log.onEvent }),
        );

        const [submit] = waitDecisions(log.events);
        expect(submit?.state).toBe('Submit');
        expect(submit?.retryAfterSeconds).toBeGreaterThanOrEqual(low);
        expect(submit?.retryAfterSeconds).toBeLessThanOrEqual(high);
        expect(submit?.waitSeconds).toBe(submit?.retryAfterSeconds);
        expect(output.polls).toBe(1);
        // The first poll came no sooner than the wait asked for (the simulator's request times).
        const [submitted] = h.simulator.requests.filter((r) => r.endpoint === 'submit');
        const [polled] = h.simulator.requests.filter((r) => r.endpoint === 'job');
        expect((polled?.time ?? 0) - (submitted?.time ?? 0)).toBeGreaterThanOrEqual(
          (submit?.waitSeconds ?? 0) * 1000 - 50,
        );
      },
    );

    it('never waits past the deadline, whatever the 202 asks for', async () => {
      h.simulator.faults.add(fault.retryAfter({ httpDateInSeconds: 3600 }));
      const log = eventLog();

      succeeded(await h.run({ path: '/labels', maxWaitSeconds: 2 }, { onEvent: log.onEvent }));

      const decisions = waitDecisions(log.events);
      expect(decisions[0]?.retryAfterSeconds).toBe(300);
      expect(decisions[0]?.waitSeconds).toBe(2);
      expectWaitsWithinDeadline(decisions);
    });
  });

  describe('on polls of a job that is still running', () => {
    it('takes the default for missing, negative, non-numeric and enormous values and honours an HTTP-date', async () => {
      h.simulator.faults.add(fault.jobNeverFinishes());
      const values = [
        fault.retryAfterHuge({ endpoint: 'job', nth: 1 }),
        fault.retryAfterNegative({ endpoint: 'job', nth: 2 }),
        fault.retryAfterGarbage({ endpoint: 'job', nth: 3 }),
        fault.retryAfterMissing({ endpoint: 'job', nth: 4 }),
        fault.retryAfterHttpDate(4, { endpoint: 'job', nth: 5 }),
      ];
      for (const value of values) h.simulator.faults.add(value);
      const log = eventLog();

      const { error } = failed(
        await h.run(
          { path: '/labels', maxWaitSeconds: 7 },
          {
            // Default 2 s, and a 1 s poll interval so that five polls fit before the deadline.
            env: { RETRY_AFTER_DEFAULT_SECONDS: '2', POLL_MAX_INTERVAL_SECONDS: '1' },
            onEvent: log.onEvent,
          },
        ),
      );

      const polls = waitDecisions(log.events).filter((d) => d.state === 'Poll');
      expect(error).toBe('PceJobTimeout');
      expect(polls.slice(0, 4).map((p) => p.retryAfterSeconds)).toEqual([2, 2, 2, 2]);
      expect(polls[4]?.retryAfterSeconds).toBeGreaterThanOrEqual(3);
      expect(polls[4]?.retryAfterSeconds).toBeLessThanOrEqual(4);
      expect(polls.every((p) => p.waitSeconds === 1)).toBe(true);
      expectWaitsWithinDeadline(polls);
    });

    it('ends at the deadline with PceJobTimeout when every poll asks for an enormous wait', async () => {
      h.simulator.faults.add(fault.jobNeverFinishes());
      h.simulator.faults.add(fault.retryAfterHuge({ endpoint: 'job', times: Number.POSITIVE_INFINITY }));
      const log = eventLog();

      const { error, cause } = failed(
        await h.run({ path: '/labels', maxWaitSeconds: 3 }, { onEvent: log.onEvent }),
      );

      const decisions = waitDecisions(log.events);
      expect(error).toBe('PceJobTimeout');
      expect(cause).toContain('did not finish within 3 seconds');
      expect(decisions.filter((d) => d.state === 'Poll').every((d) => d.retryAfterSeconds === 5)).toBe(true);
      expectWaitsWithinDeadline(decisions);
    });
  });
});
