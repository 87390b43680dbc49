import { describe, expect, it } from 'vitest';
import type { TrafficOutput } from '../../lambdas/contracts/traffic-run';
import { checkPce, exported, useTrafficCli } from './traffic-acceptance-support';
import { duplicates, expectedKeys, missingFrom } from './traffic-support';

/*
 * The acceptance through the command line (traffic-acceptance-support.ts), second half:
 * a one-second burst that only a split by policy decision brings under the cap, and one that no
 * split can, which fails the run.
 */

const HOUR = 3_600_000;

describe('pce-export run --traffic on a burst no minute can hold under the 200,000 cap', () => {
  const cli = useTrafficCli();

  it('splits by policy decision a burst that no minute can hold under the cap, and exports it exactly once', async () => {
    const at = new Date(Date.now() - 6 * HOUR).toISOString();
    const { options, simulator, ca } = await cli.population({
      flowsPerDay: 20_000,
      burst: { at, flows: 450_000, seconds: 1 },
    });
    const out = cli.out('burst-decisions');

    // Twice the cap in one second: whichever minute slices it falls in, one holds more than the
    // cap, and a quarter of it (one decision) fits.
    const { code, output } = await cli.run(simulator, ca, out);

    expect(code, JSON.stringify(output)).toBe(0);
    const result = output as unknown as TrafficOutput;
    const { manifest, keys } = await exported(out, result);
    const expected = expectedKeys(options, { start: result.startDate, end: result.endDate });
    expect(expected.length).toBeGreaterThan(450_000);
    expect(duplicates(keys)).toEqual([]);
    expect(missingFrom(expected, keys)).toEqual([]);
    expect(keys).toHaveLength(expected.length);
    expect(result).toMatchObject({ complete: true, objectCount: expected.length });
    expect(manifest.windows.some((w) => w.decision !== undefined)).toBe(true);
    checkPce(simulator);
  });

  it('fails with TrafficIncomplete on a burst no split can bring under the cap, leaving no query behind', async () => {
    const at = new Date(Date.now() - 6 * HOUR).toISOString();
    const { simulator, ca } = await cli.population({
      flowsPerDay: 20_000,
      // Twice the cap in one second of one service: whichever minute slices it falls in, one holds
      // more than the cap.
      burst: { at, flows: 400_002, seconds: 1, shape: 'uniform' },
    });
    const out = cli.out('unsplittable');

    const { code, output } = await cli.run(simulator, ca, out);

    expect(code).toBe(1);
    expect(output).toMatchObject({ error: 'TrafficIncomplete' });
    expect(String(output.cause)).toContain('cannot be split further');
    checkPce(simulator);
  });
});
