import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TrafficOutput } from '../../lambdas/contracts/traffic-run';
import { type Harness, startHarness, succeeded } from './harness';
import { duplicates, expectedKeys, missingFrom, storedFlows } from './traffic-support';

const UNTIL = '2026-03-02T00:00:00.000Z';
const DAY = { start: '2026-03-01T00:00:00Z', end: UNTIL };
const FAST = { env: { RETRY_AFTER_DEFAULT_SECONDS: '1' } };

describe('a day of flows past the cap', () => {
  const options = { traffic: { flowsPerDay: 45_000, days: 3, until: UNTIL } };
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(options);
  });
  afterEach(() => h.reset());
  afterAll(async () => {
    await h?.close();
  });

  it('exports every flow exactly once, in windows under the cap', async () => {
    const traffic = { ...DAY, maxResults: 20_000 };
    const output = succeeded<TrafficOutput>(await h.run({ kind: 'traffic', traffic }, FAST));

    const { manifest, keys } = await storedFlows(h, output);
    const expected = expectedKeys(options, traffic);
    expect(duplicates(keys)).toEqual([]);
    expect(missingFrom(expected, keys)).toEqual([]);
    expect(keys).toHaveLength(expected.length);
    expect(output).toMatchObject({ complete: true, objectCount: expected.length });
    expect(manifest.windows.length).toBeGreaterThan(2);
  });
});
