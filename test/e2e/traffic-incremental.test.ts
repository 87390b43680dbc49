import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrafficOutput } from '../../lambdas/contracts/traffic-run';
import { type Harness, startHarness, succeeded } from './harness';
import { duplicates, expectedKeys, missingFrom, storedFlows } from './traffic-support';

/** Traffic queries send no Retry-After: poll every second instead of the 5 s default. */
const FAST = { env: { RETRY_AFTER_DEFAULT_SECONDS: '1' } };

describe('incremental traffic runs', () => {
  // Flows up to an hour from now, so that the second run finds new flows after the first.
  const options = {
    traffic: { flowsPerDay: 45_000, days: 2, until: new Date(Date.now() + 3_600_000).toISOString() },
  };
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(options);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('continue where the last run ended, less the overlap, with no flow twice and none lost', async () => {
    const flows = { kind: 'traffic', traffic: { since: '6h', incremental: true, maxResults: 20_000 } };
    const run = async () =>
      succeeded<TrafficOutput>(await h.run({ exportName: 'flows' }, { ...FAST, exports: { flows } }));

    const first = await run();
    const watermark = JSON.parse((await h.getObject('pce/flows/watermark.json')).toString('utf8'));
    const second = await run();

    const one = await storedFlows(h, first);
    const two = await storedFlows(h, second);
    expect(Date.parse(first.endDate) - Date.parse(first.startDate)).toBe(6 * 3_600_000);
    expect(Date.parse(second.startDate)).toBe(Date.parse(first.endDate) - 10 * 60_000);
    expect(watermark).toMatchObject({ end: first.endDate });
    const keys = [...one.keys, ...two.keys];
    const expected = expectedKeys(options, { start: first.startDate, end: second.endDate });
    expect(duplicates(keys)).toEqual([]);
    expect(missingFrom(expected, keys)).toEqual([]);
    expect(keys).toHaveLength(expected.length);
    expect(two.manifest.incremental?.overlapDropped).toBeGreaterThan(0);
  });
});
