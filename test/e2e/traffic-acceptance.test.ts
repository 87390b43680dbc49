import { describe, expect, it } from 'vitest';
import type { TrafficOutput } from '../../lambdas/contracts/traffic-run';
import { checkPce, exported, useTrafficCli } from './traffic-acceptance-support';
import { duplicates, expectedKeys, missingFrom } from './traffic-support';

/*
 * The acceptance through the command line (traffic-acceptance-support.ts), first half:
 * a day past the cap and a one-minute burst past it. Every flow of the range is in DIR exactly
 * once, no query is left on the PCE and no request was answered 429.
 */

const HOUR = 3_600_000;

describe('pce-export run --traffic past the 200,000 cap', () => {
  const cli = useTrafficCli();

  it('exports 450,000 flows of a day exactly once, in windows under the cap', async () => {
    const { options, simulator, ca } = await cli.population({ flowsPerDay: 450_000 });
    const out = cli.out('uniform');

    const { code, output } = await cli.run(simulator, ca, out);

    expect(code, JSON.stringify(output)).toBe(0);
    const result = output as unknown as TrafficOutput;
    const { manifest, keys } = await exported(out, result);
    const expected = expectedKeys(options, { start: result.startDate, end: result.endDate });
    expect(expected.length).toBeGreaterThan(400_000);
    expect(duplicates(keys)).toEqual([]);
    expect(missingFrom(expected, keys)).toEqual([]);
    expect(keys).toHaveLength(expected.length);
    expect(result).toMatchObject({ complete: true, objectCount: expected.length });
    expect(manifest.windows.length).toBeGreaterThanOrEqual(3);
    for (const window of manifest.windows) {
      expect(window.flowsCount).toBeLessThan(200_000);
      expect(window).toMatchObject({ flowsCount: window.matchesCount });
    }
    checkPce(simulator);
  });

  it('exports a burst of 210,000 flows within one minute exactly once', async () => {
    const at = new Date(Date.now() - 6 * HOUR).toISOString();
    const { options, simulator, ca } = await cli.population({
      flowsPerDay: 20_000,
      burst: { at, flows: 210_000, seconds: 60 },
    });
    const out = cli.out('burst');

    const { code, output } = await cli.run(simulator, ca, out);

    expect(code, JSON.stringify(output)).toBe(0);
    const result = output as unknown as TrafficOutput;
    const { manifest, keys } = await exported(out, result);
    const expected = expectedKeys(options, { start: result.startDate, end: result.endDate });
    expect(expected.length).toBeGreaterThan(210_000);
    expect(duplicates(keys)).toEqual([]);
    expect(missingFrom(expected, keys)).toEqual([]);
    expect(keys).toHaveLength(expected.length);
    expect(result).toMatchObject({ complete: true, objectCount: expected.length });
    expect(manifest.windows.length).toBeGreaterThan(2);
    checkPce(simulator);
  });
});
