/** The command line of `pce-export simulate`: flags, usage, the faults file. */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../cli/errors';
import { parseFlags } from '../cli/flags';
import type { Fault } from './fault-kinds';
import { faultsFromJson } from './index';
import { isLoopback } from './options';
import type { DatasetSizes } from './types';

export const SIMULATE_USAGE = `Usage: pce-export simulate [--port N] [--host 127.0.0.1] [--tls] [--workloads N] [--seed N] [--job-seconds N]
                          [--rate-limit N] [--flows-per-day N] [--traffic-days N]
                          [--events-per-day N] [--revision N] [--faults FILE.json]

Runs a simulated Illumio PCE (org 1) on a loopback address until Ctrl+C.

  --port N          TCP port (default 0: any free port)
  --host ADDR       loopback address to listen on (default 127.0.0.1)
  --tls             serve HTTPS with a generated private CA (its PEM is written to a temp file)
  --workloads N     number of workloads (default 25000; other collections scale along)
  --seed N          data seed; the same seed serves the same bytes (default 1)
  --job-seconds N   how long an async job takes (default 3)
  --rate-limit N    requests per minute per API key before 429 (default 500)
  --flows-per-day N Explorer traffic flows in each 24 hours (default 20000, at most 20000000)
  --traffic-days N  days of traffic, up to the time of each query (default 30)
  --faults FILE     a JSON array of faults (the objects sim.faults.add takes), active from the start
  --revision N      start at data revision N (default 0); PUT /_simulator/revision changes it
  --events-per-day N  everyday audit events a day in /orgs/1/events (default 96; 30 days kept)

Credentials: PCE_API_KEY and PCE_API_SECRET from the environment when both are set,
otherwise generated and printed.

Exit codes:
  0  stopped by Ctrl+C (SIGINT) or SIGTERM; the last line on stdout is {"event": "ready", …}
  2  a mistake in the command line (a flag, the --faults file): nothing was started; the
     message names what to change and the last line on stdout is {"error": "UsageError", "cause": …}
`;

function intFlag(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
  return Number(raw);
}

export interface Parsed {
  readonly help: boolean;
  readonly port: number;
  readonly host: string;
  readonly tls: boolean;
  readonly workloads: number;
  readonly seed: number;
  readonly jobSeconds: number;
  readonly rateLimit: number;
  readonly flowsPerDay: number;
  readonly trafficDays: number;
  readonly faultsFile?: string;
  readonly revision: number;
  readonly eventsPerDay: number;
}

const SIMULATE_FLAGS = {
  port: { type: 'string' },
  host: { type: 'string' },
  tls: { type: 'boolean' },
  workloads: { type: 'string' },
  seed: { type: 'string' },
  'job-seconds': { type: 'string' },
  'rate-limit': { type: 'string' },
  'flows-per-day': { type: 'string' },
  'traffic-days': { type: 'string' },
  faults: { type: 'string' },
  revision: { type: 'string' },
  'events-per-day': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The flags, by the command line's one parser: an unknown flag gets the flag probably meant. */
export function parse(argv: readonly string[]): Parsed {
  const args = argv[0] === 'simulate' ? argv.slice(1) : [...argv];
  const values: Record<string, string | boolean | undefined> = parseFlags(args, SIMULATE_FLAGS);
  const str = (name: string) => {
    const v = values[name];
    return typeof v === 'string' ? v : undefined;
  };
  const host = str('host') ?? '127.0.0.1';
  if (!isLoopback(host))
    throw new UsageError(`--host must be a loopback address (127.0.0.1, ::1, localhost), not "${host}"`);
  const jobSecondsRaw = str('job-seconds');
  let jobSeconds = 3;
  if (jobSecondsRaw !== undefined) {
    jobSeconds = Number(jobSecondsRaw);
    if (!/^\d+(\.\d+)?$/.test(jobSecondsRaw) || jobSeconds > 3600)
      throw new UsageError(
        `--job-seconds must be a number of seconds from 0 to 3600, not "${jobSecondsRaw}"`,
      );
  }
  return {
    help: values.help === true,
    port: intFlag('port', str('port'), 0, 0, 65_535),
    host,
    tls: values.tls === true,
    workloads: intFlag('workloads', str('workloads'), 25_000, 0, 50_000_000),
    seed: intFlag('seed', str('seed'), 1, 0, 2 ** 31 - 1),
    jobSeconds,
    rateLimit: intFlag('rate-limit', str('rate-limit'), 500, 1, 1_000_000),
    flowsPerDay: intFlag('flows-per-day', str('flows-per-day'), 20_000, 1, 20_000_000),
    trafficDays: intFlag('traffic-days', str('traffic-days'), 30, 1, 3_660),
    ...(str('faults') === undefined ? {} : { faultsFile: str('faults') }),
    revision: intFlag('revision', str('revision'), 0, 0, 1_000_000),
    eventsPerDay: intFlag('events-per-day', str('events-per-day'), 96, 0, 1_000_000),
  };
}

/** A realistic data set around the workload count: 25,000 workloads → 300 labels, 120 services … */
export function datasetFor(
  workloads: number,
  eventsPerDay: number,
): Required<Omit<DatasetSizes, 'trafficFlows'>> {
  const scale = (per25k: number, min: number) => Math.max(min, Math.round((per25k * workloads) / 25_000));
  return {
    workloads,
    labels: Math.min(5_000, scale(300, 40)),
    services: Math.min(2_000, scale(120, 30)),
    ipLists: Math.min(1_000, scale(40, 12)),
    labelGroups: Math.min(1_000, scale(30, 8)),
    ruleSets: Math.min(2_000, scale(80, 12)),
    eventsPerDay,
    eventRetentionDays: 30,
  };
}

/** The faults of a `--faults` file; a UsageError names the file and the bad entry. */
export async function loadFaults(path: string): Promise<Fault[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(
      `--faults ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--faults ${path}: not valid JSON (${(err as Error).message})`);
  }
  try {
    return faultsFromJson(json);
  } catch (err) {
    throw new UsageError(`--faults ${path}: ${(err as Error).message}`);
  }
}
