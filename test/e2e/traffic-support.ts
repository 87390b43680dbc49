import { gunzipSync } from 'node:zlib';
import { keyOf, populationFlows } from '../../bench/lib/flow-check';
import type { TrafficOutput } from '../../lambdas/contracts/traffic-run';
import type { TrafficManifest } from '../../lambdas/export/traffic/manifest';
import type { SimulatorOptions } from '../../simulator/types';
import type { Harness } from './harness';

/*
 * Exactly-once checks of traffic runs against the simulator's own population: the flows a query
 * over the run's whole range would match, had it no cap, generated here from the same seed and
 * settings, compared with the flows the run's window objects hold.
 */

/** The harness's simulator options, as startHarness fills them in. */
export function simulatorOptions(options: SimulatorOptions): SimulatorOptions {
  return {
    tls: true,
    jobDurationMs: 400,
    retryAfterSeconds: 1,
    dataset: { workloads: 500, labels: 60 },
    ...options,
  };
}

/** The dedupe keys of every flow the population holds for a traffic input's whole range. */
export function expectedKeys(
  options: SimulatorOptions,
  traffic: Record<string, unknown>,
  now = new Date(),
): string[] {
  return Array.from(populationFlows(simulatorOptions(options), traffic, now), keyOf);
}

/** The run's manifest and the dedupe key of every flow its window objects hold, in order. */
export async function storedFlows(
  h: Harness,
  output: TrafficOutput,
): Promise<{ manifest: TrafficManifest; keys: string[]; flows: Record<string, unknown>[] }> {
  const manifest = JSON.parse((await h.getObject(output.manifestKey)).toString('utf8')) as TrafficManifest;
  const flows: Record<string, unknown>[] = [];
  for (const window of manifest.windows) {
    const bytes = await h.getObject(window.key);
    const text = (manifest.gzip ? gunzipSync(bytes) : bytes).toString('utf8');
    const rows =
      manifest.format === 'raw'
        ? (JSON.parse(text) as Record<string, unknown>[])
        : text
            .split('\n')
            .filter((line) => line !== '')
            .map((line) => JSON.parse(line) as Record<string, unknown>);
    if (rows.length !== window.objectCount) {
      throw new Error(
        `window ${window.id} holds ${rows.length} flows, its manifest says ${window.objectCount}`,
      );
    }
    flows.push(...rows);
  }
  return { manifest, keys: flows.map(keyOf), flows };
}

/** Keys that occur more than once. */
export function duplicates(keys: readonly string[]): string[] {
  const seen = new Set<string>();
  return keys.filter((key) => {
    if (seen.has(key)) return true;
    seen.add(key);
    return false;
  });
}

/** What `a` holds and `b` does not. */
export function missingFrom(a: readonly string[], b: readonly string[]): string[] {
  const have = new Set(b);
  return a.filter((key) => !have.has(key));
}
