/**
 * `pce-export simulate`: the PCE simulator on its own, for curl and other tools.
 * Runs until SIGINT/SIGTERM (or the optional abort signal), then closes cleanly.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startSimulator } from './index';
import { isLoopback } from './options';
import type { DatasetSizes, RunningSimulator } from './types';

/** A stream (`process.stdout`) or a line writer that adds the newline itself. */
type Sink = { write(text: string): unknown } | ((line: string) => void);

interface SimulateIo {
  readonly stdout: Sink;
  readonly stderr: Sink;
  /** Stops the simulator when aborted (besides SIGINT/SIGTERM). */
  readonly signal?: AbortSignal;
  /** Where PCE_API_KEY / PCE_API_SECRET are read from. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const SIMULATE_USAGE = `Usage: pce-export simulate [--port N] [--host 127.0.0.1] [--tls] [--workloads N] [--seed N] [--job-seconds N]

Runs a simulated Illumio PCE (org 1) on a loopback address until Ctrl+C.

  --port N          TCP port (default 0: any free port)
  --host ADDR       loopback address to listen on (default 127.0.0.1)
  --tls             serve HTTPS with a generated private CA (its PEM is written to a temp file)
  --workloads N     number of workloads (default 25000; other collections scale along)
  --seed N          data seed; the same seed serves the same bytes (default 1)
  --job-seconds N   how long an async job takes (default 3)
  --rate-limit N    requests per minute per API key before 429 (default 500)

Credentials: PCE_API_KEY and PCE_API_SECRET from the environment when both are set,
otherwise generated and printed.
`;

class UsageError extends Error {}

/** Writes text ending in a newline to either kind of sink. */
function writer(sink: Sink): (text: string) => void {
  if (typeof sink === 'function') return (text) => sink(text.endsWith('\n') ? text.slice(0, -1) : text);
  return (text) => {
    sink.write(text);
  };
}

function intFlag(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  return Number(raw);
}

interface Parsed {
  readonly help: boolean;
  readonly port: number;
  readonly host: string;
  readonly tls: boolean;
  readonly workloads: number;
  readonly seed: number;
  readonly jobSeconds: number;
  readonly rateLimit: number;
}

function parse(argv: readonly string[]): Parsed {
  const args = argv[0] === 'simulate' ? argv.slice(1) : [...argv];
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        tls: { type: 'boolean' },
        workloads: { type: 'string' },
        seed: { type: 'string' },
        'job-seconds': { type: 'string' },
        'rate-limit': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const str = (name: string) => {
    const v = values[name];
    return typeof v === 'string' ? v : undefined;
  };
  const host = str('host') ?? '127.0.0.1';
  if (!isLoopback(host))
    throw new UsageError(`--host must be a loopback address (127.0.0.1, ::1, localhost), got "${host}"`);
  const jobSecondsRaw = str('job-seconds');
  let jobSeconds = 3;
  if (jobSecondsRaw !== undefined) {
    jobSeconds = Number(jobSecondsRaw);
    if (!/^\d+(\.\d+)?$/.test(jobSecondsRaw) || jobSeconds > 3600)
      throw new UsageError(
        `--job-seconds must be a number of seconds from 0 to 3600, got "${jobSecondsRaw}"`,
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
  };
}

/** A realistic data set around the workload count: 25,000 workloads → 300 labels, 120 services … */
function datasetFor(workloads: number): Required<DatasetSizes> {
  const scale = (per25k: number, min: number) => Math.max(min, Math.round((per25k * workloads) / 25_000));
  return {
    workloads,
    labels: Math.min(5_000, scale(300, 40)),
    services: Math.min(2_000, scale(120, 30)),
    ipLists: Math.min(1_000, scale(40, 12)),
    labelGroups: Math.min(1_000, scale(30, 8)),
    ruleSets: Math.min(2_000, scale(80, 12)),
    trafficFlows: 50_000,
  };
}

function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'"'"'`)}'`;
}

/** Runs `pce-export simulate`; resolves with the exit code once stopped. */
export async function runSimulate(
  argv: readonly string[],
  io: SimulateIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const stdout = writer(io.stdout);
  const stderr = writer(io.stderr);
  let opts: Parsed;
  try {
    opts = parse(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    stderr(`pce-export simulate: ${err.message}\n\n${SIMULATE_USAGE}`);
    return 2;
  }
  if (opts.help) {
    stdout(SIMULATE_USAGE);
    return 0;
  }

  const env = io.env ?? process.env;
  const fromEnv = Boolean(env.PCE_API_KEY && env.PCE_API_SECRET);
  const dataset = datasetFor(opts.workloads);
  let sim: RunningSimulator;
  try {
    sim = await startSimulator({
      host: opts.host,
      port: opts.port,
      tls: opts.tls,
      seed: opts.seed,
      dataset,
      jobDurationMs: Math.round(opts.jobSeconds * 1000),
      retryAfterSeconds: Math.max(1, Math.min(5, Math.ceil(opts.jobSeconds / 3))),
      rateLimitPerMinute: opts.rateLimit,
      ...(fromEnv
        ? { credentials: { apiKey: env.PCE_API_KEY ?? '', apiSecret: env.PCE_API_SECRET ?? '' } }
        : {}),
    });
  } catch (err) {
    stderr(`pce-export simulate: could not start: ${(err as Error).message}\n`);
    return 1;
  }

  let caDir: string | undefined;
  let caPath: string | undefined;
  if (sim.caPem) {
    caDir = await mkdtemp(join(tmpdir(), 'pce-simulator-'));
    caPath = join(caDir, 'ca.pem');
    await writeFile(caPath, sim.caPem, { mode: 0o644 });
  }

  const { apiKey, apiSecret } = sim.credentials;
  const n = (x: number) => x.toLocaleString('en-US');
  const lines = [
    `PCE simulator listening on ${sim.url} (API base ${sim.url}/api/v2)`,
    `  org:         1`,
    `  data:        ${n(dataset.workloads)} workloads, ${n(dataset.labels)} labels, ${n(dataset.services)} services, ${n(dataset.ipLists)} IP lists, ${n(dataset.labelGroups)} label groups, ${n(dataset.ruleSets)} rule sets (seed ${opts.seed})`,
    `  jobs:        take ${opts.jobSeconds} s; rate limit ${n(opts.rateLimit)} requests/min`,
  ];
  if (fromEnv) lines.push(`  api key:     ${apiKey} (from PCE_API_KEY; secret from PCE_API_SECRET)`);
  else lines.push(`  api key:     ${apiKey}`, `  api secret:  ${apiSecret}`);
  if (caPath) lines.push(`  CA:          ${caPath}`);
  lines.push('', 'Try:');
  if (!fromEnv)
    lines.push(`  export PCE_API_KEY=${shellQuote(apiKey)} PCE_API_SECRET=${shellQuote(apiSecret)}`);
  lines.push(
    `  curl -si${caPath ? ` --cacert ${shellQuote(caPath)}` : ''} -u "$PCE_API_KEY:$PCE_API_SECRET" -H 'Accept: application/json' -H 'Prefer: respond-async' ${sim.url}/api/v2/orgs/1/workloads`,
    '',
    'Press Ctrl+C to stop.',
    // One JSON line for tools that start the simulator and need to find it.
    JSON.stringify({
      event: 'ready',
      url: sim.url,
      apiBase: `${sim.url}/api/v2`,
      org: 1,
      apiKey,
      ...(fromEnv ? {} : { apiSecret }),
      ...(caPath ? { caFile: caPath } : {}),
    }),
    '',
  );
  // Listen for the stop signals before saying "ready": a tool that reads the ready line may
  // send SIGTERM at once.
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      io.signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    if (io.signal?.aborted) stop();
    else io.signal?.addEventListener('abort', stop);
  });
  stdout(lines.join('\n'));
  await stopped;

  stdout('Stopping the PCE simulator…\n');
  await sim.close();
  if (caDir) await rm(caDir, { recursive: true, force: true });
  stdout('Stopped.\n');
  return 0;
}
