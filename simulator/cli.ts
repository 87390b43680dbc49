/**
 * `pce-export simulate`: the PCE simulator on its own, for curl and other tools.
 * Runs until SIGINT/SIGTERM (or the optional abort signal), then closes cleanly. Stdout
 * carries the banner and ends with one JSON ready line; lifecycle lines go to stderr.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../cli/errors';
import { datasetFor, loadFaults, type Parsed, parse, SIMULATE_USAGE } from './cli-args';
import type { Fault } from './fault-kinds';
import { startSimulator } from './index';
import type { RunningSimulator } from './types';

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

/** Writes text ending in a newline to either kind of sink. */
function writer(sink: Sink): (text: string) => void {
  if (typeof sink === 'function') return (text) => sink(text.endsWith('\n') ? text.slice(0, -1) : text);
  return (text) => {
    sink.write(text);
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
  // A mistake on the command line: the message on stderr with the usage, the error as the last line on stdout.
  const usage = (message: string) => {
    stderr(`pce-export simulate: ${message}\n\n${SIMULATE_USAGE}`);
    stdout(`${JSON.stringify({ error: 'UsageError', cause: message })}\n`);
    return 2;
  };
  let opts: Parsed;
  let faults: Fault[];
  try {
    opts = parse(argv);
    faults = opts.faultsFile === undefined || opts.help ? [] : await loadFaults(opts.faultsFile);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return usage(err.message);
  }
  if (opts.help) {
    stdout(SIMULATE_USAGE);
    return 0;
  }

  const env = io.env ?? process.env;
  const fromEnv = Boolean(env.PCE_API_KEY && env.PCE_API_SECRET);
  const dataset = datasetFor(opts.workloads, opts.eventsPerDay);
  let sim: RunningSimulator;
  try {
    sim = await startSimulator({
      host: opts.host,
      port: opts.port,
      tls: opts.tls,
      seed: opts.seed,
      dataset,
      traffic: { flowsPerDay: opts.flowsPerDay, days: opts.trafficDays },
      jobDurationMs: Math.round(opts.jobSeconds * 1000),
      retryAfterSeconds: Math.max(1, Math.min(5, Math.ceil(opts.jobSeconds / 3))),
      rateLimitPerMinute: opts.rateLimit,
      faults,
      revision: opts.revision,
      ...(fromEnv
        ? { credentials: { apiKey: env.PCE_API_KEY ?? '', apiSecret: env.PCE_API_SECRET ?? '' } }
        : {}),
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      return usage(
        `--port ${opts.port} is in use on ${opts.host}: give another --port, or --port 0 for any free one`,
      );
    if (code === 'EACCES')
      return usage(
        `--port ${opts.port} needs privileges to listen on: give --port 1024 or above, or --port 0`,
      );
    const error = err instanceof Error ? err : new Error(String(err));
    stderr(`pce-export simulate: could not start: ${error.message}\n`);
    stdout(`${JSON.stringify({ error: error.name, cause: error.message })}\n`);
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
    `  traffic:     ${n(opts.flowsPerDay)} flows a day over the last ${n(opts.trafficDays)} days`,
    `  jobs:        take ${opts.jobSeconds} s; rate limit ${n(opts.rateLimit)} requests/min`,
    `  events:      ${n(dataset.eventsPerDay)} a day, ${dataset.eventRetentionDays} days kept (/orgs/1/events)`,
    `  revision:    ${sim.revision} (PUT ${sim.url}/_simulator/revision with {"revision": N} to change it)`,
  ];
  if (opts.faultsFile !== undefined)
    lines.push(
      `  faults:      ${faults.length} from ${opts.faultsFile} (${faults.map((f) => f.kind).join(', ') || 'none'})`,
    );
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

  // Lifecycle lines go to stderr: the ready line stays the last line on stdout.
  stderr('Stopping the PCE simulator…\n');
  await sim.close();
  if (caDir) await rm(caDir, { recursive: true, force: true });
  stderr('Stopped.\n');
  return 0;
}
