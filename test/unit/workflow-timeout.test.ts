import { describe, expect, it } from 'vitest';
import { MAX_WAIT_SECONDS_LIMIT } from '../../lambdas/contracts/limits';
import { MAX_TRAFFIC_QUERIES } from '../../lambdas/contracts/traffic';
import { executionTimeoutSeconds, RETRIES, taskBoundSeconds, trafficParts } from '../../lib/workflow-timeout';

const BASE = {
  functionTimeouts: { submit: 90, poll: 90, fetch: 900, snapshot: 60, changes: 900 },
  submitRetryWindowSeconds: 600,
  snapshotMaxConcurrency: 5,
};
const TRAFFIC = { functionTimeouts: { run: 300, window: 90, fetch: 900 }, windowConcurrency: 4 };
const stored = [RETRIES.storage, RETRIES.lambdaService];

describe('the execution time limit', () => {
  it('bounds a traffic run by its one deadline plus its fixed steps', () => {
    const parts = trafficParts(1000, TRAFFIC);
    const run = taskBoundSeconds(300, stored);
    const window = taskBoundSeconds(90, stored);
    const fetch = taskBoundSeconds(900, stored);
    expect(parts).toEqual({
      submit: 1000,
      plan: run,
      deadline: MAX_WAIT_SECONDS_LIMIT,
      stepInFlight: run,
      windowsAfterDeadline: 2 * window + fetch + Math.ceil(MAX_TRAFFIC_QUERIES / 4) * window,
      end: 2 * run,
    });
  });

  it('gives traffic tasks no PCE retries: the steps wait PCE trouble out in Wait states', () => {
    expect(Object.keys(RETRIES)).toEqual(['storage', 'lambdaService']);
  });

  it('is the same with and without traffic when the snapshot bound is the longest, and never a year cap', () => {
    const without = executionTimeoutSeconds(BASE);
    const withTraffic = executionTimeoutSeconds({ ...BASE, traffic: TRAFFIC });
    const trafficAlone = Object.values(trafficParts(0, TRAFFIC)).reduce((a, b) => a + b, 0);
    expect(trafficAlone).toBeLessThan(without);
    expect(withTraffic).toBe(without);
    expect(withTraffic).toBeLessThan(365 * 24 * 3600);
  });

  it('grows with the windows queued per slot when window concurrency is low', () => {
    const one = trafficParts(0, { ...TRAFFIC, windowConcurrency: 1 });
    const six = trafficParts(0, { ...TRAFFIC, windowConcurrency: 6 });
    expect(one.windowsAfterDeadline).toBeGreaterThan(six.windowsAfterDeadline);
  });
});
