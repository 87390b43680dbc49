import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, succeeded } from './harness';
import { callsTo, startQuickHarness } from './reliability-support';

/*
 * A traffic query's Submit made again (Step Functions retrying a Submit whose answer was lost, or
 * the Submit loop after a PCE that did not answer) looks for its query by its name before posting
 * one, so the PCE is left with one query per execution (per window of a traffic run).
 */

describe('a traffic Submit made again', () => {
  let h: Harness;

  beforeAll(async () => {
    // Traffic queries run on the system clock: short ones, and real (short) waits.
    h = await startQuickHarness();
  });
  afterEach(() => h.reset());
  afterAll(async () => {
    await h?.close();
  });

  it('finds the query a window Submit whose answer was lost left, by its name: one query on the PCE', async () => {
    // The function ran and posted the window's query; Step Functions never got its answer, and retries.
    h.engine.faults.lambda.inject(
      { state: 'TrafficWindowSubmit' },
      { error: 'Lambda.ClientExecutionTimeoutException', when: 'after' },
    );

    const outcome = await h.run(
      { kind: 'traffic', traffic: { since: '24h' }, format: 'raw', gzip: false },
      { retryIntervalOverrides: { TrafficWindowSubmit: 10 } },
    );

    succeeded(outcome);
    expect(h.engine.faults.lambda.delivered).toHaveLength(1);
    expect(callsTo(h.simulator.requests, 'traffic-submit').map((r) => r.status)).toEqual([202]);
    // The retry, which finds the window marked submitted, looks for the first one's query.
    expect(callsTo(h.simulator.requests, 'traffic-list').map((r) => r.status)).toEqual([200]);
    const queries = h.simulator
      .trafficQueries()
      .filter((query) => query.queryName === `pce-export traffic ${outcome.executionName} w0000`);
    expect(queries).toHaveLength(1);
    expect(queries[0]?.deletedAt).toBeDefined();
  });

  it('submits a query the input names every time, whatever queries of that name exist', async () => {
    const input = { kind: 'traffic', traffic: { since: '24h', queryName: 'nightly flows' }, gzip: false };

    succeeded(await h.run(input));
    succeeded(await h.run(input));

    expect(callsTo(h.simulator.requests, 'traffic-submit')).toHaveLength(2);
    expect(callsTo(h.simulator.requests, 'traffic-list')).toHaveLength(0);
  });
});
