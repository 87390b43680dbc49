import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createProgress } from '../../cli/progress';
import type { ExportOutput } from '../../lambdas/contracts/output';
import type { SubmitRetryState, WorkflowState } from '../../lambdas/contracts/state';
import type { WorkflowEvent } from '../../local/runner';
import { fault } from '../../simulator/index';
import { BUCKET, type Harness, PREFIX, sha256, startHarness, succeeded } from './harness';
import { callsTo, exitsOf, failed, submitAttempts, taskRetries } from './reliability-support';

/*
 * A PCE restart while an export runs: minute-long outages, resets, refused connections, a
 * maintenance window at the start, 429 storms, then odd-but-valid and hostile answers. The
 * simulator runs on its manual clock: each Wait state the execution enters moves it ahead by the
 * seconds the state asked for, and the Wait itself takes no real time (waitTimeOverrides), so a
 * 45-second outage is stepped through as the deployed state machine would live it, without
 * waiting for it. Jobs take 60 s of that time and the PCE asks for polls every 10 s.
 */

const WAITS = ['WaitForJob', 'WaitToSubmit', 'WaitToFetch'] as const;

interface SimulatedRun {
  readonly outcome: Awaited<ReturnType<Harness['run']>>;
  readonly events: WorkflowEvent[];
  /** Each Wait entered, with the seconds it asked for (by which the simulator's clock moved). */
  readonly waits: { readonly state: string; readonly seconds: number }[];
  /** The progress lines `pce-export run` prints for these events, without their time stamps. */
  readonly progress: string[];
}

describe('a PCE restart while the export runs, on simulated time', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ clock: 'manual', jobDurationMs: 60_000, retryAfterSeconds: 10 });
  });
  afterEach(() => h.reset());
  afterAll(async () => {
    await h?.close();
  });

  async function runOnSimulatedTime(
    input: Record<string, unknown>,
    onWait: (state: string) => void = () => undefined,
  ) {
    const events: WorkflowEvent[] = [];
    const waits: { state: string; seconds: number }[] = [];
    const lines: string[] = [];
    const progress = createProgress({ io: { stdout: () => undefined, stderr: (line) => lines.push(line) } });
    const outcome = await h.run(input, {
      waitTimeOverrides: Object.fromEntries(WAITS.map((name) => [name, 0])),
      onEvent: (event) => {
        events.push(event);
        progress.onEvent(event);
        const name = event.state?.name ?? '';
        if (event.type !== 'StateEntered' || !(WAITS as readonly string[]).includes(name)) return;
        const state = event.state?.input as Partial<WorkflowState & SubmitRetryState>;
        const seconds = (name === 'WaitToSubmit' ? state.submit?.waitSeconds : state.job?.waitSeconds) ?? 0;
        waits.push({ state: name, seconds });
        onWait(name);
        // The offset moves at once; what fell due (a listener coming back) runs right after.
        void h.simulator.clock.advance(seconds * 1000);
      },
    });
    progress.stop();
    const run: SimulatedRun = {
      outcome,
      events,
      waits,
      progress: lines.map((line) => line.replace(/^\[\s*[\d.]+s\] /, '')),
    };
    return run;
  }

  const statuses = (endpoint: Parameters<typeof callsTo>[1]) =>
    callsTo(h.simulator.requests, endpoint).map((r) => r.status);

  async function expectStoredCompletely(output: ExportOutput, count: number) {
    const stored = await h.getObject(output.key);
    expect(sha256(stored)).toBe(output.sha256);
    expect(output.objectCount).toBe(count);
    expect(await h.engine.s3?.listOpenUploads(BUCKET)).toEqual([]);
  }

  it('polls through 45 s of 503 while the job runs, the waits growing 5, 10, 20, 40 s, and stores the export', async () => {
    h.simulator.faults.add(
      fault.outage({ from: { request: 'job', nth: 2 }, forMs: 45_000 }, { endpoint: 'job' }),
    );

    const run = await runOnSimulatedTime({ path: '/labels' });

    const output = succeeded<ExportOutput>(run.outcome);
    await expectStoredCompletely(output, 60);
    // Poll 1 (t = 10 s) sees the job running; polls 2 to 5 (t = 20, 25, 35, 55 s) the outage,
    // which ends at t = 65 s; poll 6 (t = 95 s) the job done.
    expect(statuses('job')).toEqual([200, 503, 503, 503, 503, 200]);
    expect(run.waits.map((w) => w.seconds)).toEqual([10, 10, 5, 10, 20, 40]);
    expect(output.polls).toBe(6);
    expect(output.retries).toEqual({ submit: 0, poll: 4, fetch: 0 });
    expect(taskRetries(run.events)).toBe(0);
    expect(run.progress).toContain('Poll 2: PCE unavailable (503); polling again in 5 s');
    expect(run.progress).toContain('Poll 5: PCE unavailable (503); polling again in 40 s');
    expect(callsTo(h.simulator.requests, 'submit')).toHaveLength(1);
  });

  it('waits the Retry-After a 503 carries: "PCE unavailable (503); polling again in 20 s"', async () => {
    h.simulator.faults.add(
      fault.outage({ from: { request: 'job', nth: 2 }, forMs: 45_000 }, { endpoint: 'job', retryAfter: 20 }),
    );

    const run = await runOnSimulatedTime({ path: '/labels' });

    succeeded(run.outcome);
    // Retry-After 20 s is longer than the first backoffs (5, 10 s) and shorter than the fourth.
    expect(run.waits.map((w) => w.seconds)).toEqual([10, 10, 20, 20, 20]);
    expect(statuses('job')).toEqual([200, 503, 503, 503, 200]);
    expect(run.progress).toContain('Poll 2: PCE unavailable (503); polling again in 20 s');
  });

  it('polls through 40 s of connection resets while the job runs', async () => {
    h.simulator.faults.add(
      fault.resets({ from: { request: 'job', nth: 2 }, forMs: 40_000 }, { endpoint: 'job' }),
    );

    const run = await runOnSimulatedTime({ path: '/labels' });

    const output = succeeded<ExportOutput>(run.outcome);
    await expectStoredCompletely(output, 60);
    const troubled = exitsOf(run.events, 'Poll').filter((state) => state.job?.unavailable);
    expect(troubled.length).toBeGreaterThanOrEqual(3);
    // The job as the last answered poll left it.
    const before = exitsOf(run.events, 'Poll')[0]?.job?.status;
    expect(before).toMatch(/^(pending|running)$/);
    expect(troubled.map((state) => state.job?.status)).toEqual(troubled.map(() => before));
    expect(output.retries?.poll).toBe(troubled.length);
    expect(
      run.progress.some((line) => /PCE unavailable \([A-Z_]+\); polling again in \d+ s/.test(line)),
    ).toBe(true);
  });

  it('polls through 40 s of refused connections while the job runs', async () => {
    h.simulator.faults.add(fault.refuse({ from: { request: 'job', nth: 2 }, forMs: 40_000 }));

    const run = await runOnSimulatedTime({ path: '/labels' });

    const output = succeeded<ExportOutput>(run.outcome);
    await expectStoredCompletely(output, 60);
    const troubled = exitsOf(run.events, 'Poll').filter((state) => state.job?.unavailable);
    expect(troubled.length).toBeGreaterThanOrEqual(1);
    expect(troubled.map((state) => state.job?.unavailable?.error)).not.toContain('PceRateLimited');
  });

  it('submits again through a 40 s maintenance window at the start, and the job is taken once', async () => {
    h.simulator.faults.add(fault.maintenance({ forMs: 40_000 }));

    const run = await runOnSimulatedTime({ path: '/labels' });

    const output = succeeded<ExportOutput>(run.outcome);
    await expectStoredCompletely(output, 60);
    // Submits at t = 0, 5, 15, 35 s meet the maintenance page; the one at t = 75 s is taken.
    expect(statuses('submit')).toEqual([503, 503, 503, 503, 202]);
    expect(submitAttempts(run.events)).toBe(5);
    expect(run.waits.filter((w) => w.state === 'WaitToSubmit').map((w) => w.seconds)).toEqual([
      5, 10, 20, 40,
    ]);
    expect(output.retries).toEqual({ submit: 4, poll: 0, fetch: 0 });
    expect(run.progress).toContain('Submit: PCE unavailable (503); submitting again in 5 s');
  });

  it('waits out a 429 storm on the poll by its Retry-After, without Step Functions retries', async () => {
    // Retry-After 30 s is past the client's own 20 s budget: each 429 comes back to the state machine.
    h.simulator.faults.add(
      fault.throttle(
        { from: { request: 'job', nth: 1 }, forMs: 60_000 },
        { endpoint: 'job', retryAfter: 30 },
      ),
    );

    const run = await runOnSimulatedTime({ path: '/labels' });

    const output = succeeded<ExportOutput>(run.outcome);
    await expectStoredCompletely(output, 60);
    expect(statuses('job')).toEqual([429, 429, 200]);
    expect(run.waits.map((w) => w.seconds)).toEqual([10, 30, 30]);
    expect(run.progress).toContain('Poll 1: PCE rate limited (429); polling again in 30 s');
    expect(taskRetries(run.events)).toBe(0);
  });

  it('downloads again from the start through a 40 s outage of the datafile, nothing at the key until then', async () => {
    const keysWhileWaiting: Promise<string[]>[] = [];
    h.simulator.faults.add(
      fault.outage({ from: { request: 'datafile', nth: 1 }, forMs: 40_000 }, { endpoint: 'datafile' }),
    );

    const run = await runOnSimulatedTime(
      { exportName: 'restart', path: '/labels', format: 'raw', gzip: false },
      (state) => {
        // Listed at the first three waits: each is followed by a download the outage still fails.
        if (state === 'WaitToFetch' && keysWhileWaiting.length < 3) {
          keysWhileWaiting.push(h.listKeys(`${PREFIX}restart/`));
        }
      },
    );

    const output = succeeded<ExportOutput>(run.outcome);
    await expectStoredCompletely(output, 60);
    expect(statuses('datafile')).toEqual([503, 503, 503, 503, 200]);
    expect(run.waits.filter((w) => w.state === 'WaitToFetch').map((w) => w.seconds)).toEqual([5, 10, 20, 40]);
    expect(output.retries).toEqual({ submit: 0, poll: 0, fetch: 4 });
    expect(run.progress).toContain('Fetch: PCE unavailable (503); downloading again from the start in 5 s');
    expect(callsTo(h.simulator.requests, 'delete')).toHaveLength(1);
    expect(await Promise.all(keysWhileWaiting)).toEqual([[], [], []]);
  });

  describe('answers that are odd but valid', () => {
    it.each([
      ['upper-case header names', fault.headerCase('upper')],
      ['chunked datafiles', fault.framing('chunked')],
      ['gzip whatever the client accepts', fault.gzip()],
      ['a job that goes back to pending', fault.jobPhases()],
      ['upper-case job statuses', fault.statusCase('upper')],
      ['fields the client does not know', fault.extraFields()],
    ] as const)('stores the export with %s', async (_, injected) => {
      h.simulator.faults.add(injected);

      const run = await runOnSimulatedTime({ path: '/labels' });

      await expectStoredCompletely(succeeded<ExportOutput>(run.outcome), 60);
      expect(taskRetries(run.events)).toBe(0);
    });
  });

  describe('hostile answers end in the named error, bounded', () => {
    it('fails with PceProtocolError on JSON nested 100,000 deep, after one poll', async () => {
      h.simulator.faults.add(fault.deepJson(100_000, { endpoint: 'job' }));

      const { error } = failed(
        (await runOnSimulatedTime({ exportName: 'hostile', path: '/labels' })).outcome,
      );

      expect(error).toBe('PceProtocolError');
      expect(callsTo(h.simulator.requests, 'job')).toHaveLength(1);
      expect(await h.listKeys(`${PREFIX}hostile/`)).toEqual([]);
    });

    it('fails with PceRequestError on an endless 400 body, the cause kept short', async () => {
      h.simulator.faults.add(fault.hugeError({ endpoint: 'submit', status: 400 }));

      const { error, cause } = failed((await runOnSimulatedTime({ path: '/labels' })).outcome);

      expect(error).toBe('PceRequestError');
      expect(cause.length).toBeLessThan(8192);
      expect(callsTo(h.simulator.requests, 'submit')).toHaveLength(1);
    });

    it('takes an endless 500 body on a poll for unavailability and polls again', async () => {
      h.simulator.faults.add(fault.hugeError({ endpoint: 'job', nth: 2 }));

      const run = await runOnSimulatedTime({ path: '/labels' });

      await expectStoredCompletely(succeeded<ExportOutput>(run.outcome), 60);
      expect(exitsOf(run.events, 'Poll')[1]?.job?.unavailable?.status).toBe(500);
    });

    it('fails with PceJobFailed with no control character of the PCE message in the cause', async () => {
      h.simulator.faults.add(fault.jobFails('Job failed: disk full'));
      h.simulator.faults.add(fault.controlChars({ endpoint: 'job' }));

      const { error, cause } = failed((await runOnSimulatedTime({ path: '/labels' })).outcome);

      expect(error).toBe('PceJobFailed');
      expect(cause).toContain('disk full');
      // biome-ignore lint/suspicious/noControlCharactersInRegex: what the test looks for
      expect(cause).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f\u202e]/);
    });
  });
});
