import { EXIT_CODES_HELP, EXIT_OK, UsageError } from './errors';
import { parseFlags, wholeNumberFlag } from './flags';
import { inputFromFlags } from './input';
import type { CliIo } from './io';
import { checkOutDirectory } from './out-dir';

const DEMO_USAGE = `Usage: pce-export demo [--workloads N] [--out DIR] [--format raw|ndjson] [--no-gzip]

Runs the whole workflow on this machine with nothing to set up: an embedded PCE simulator
(HTTPS with its own private CA, org 1), an embedded S3-compatible server and a Secrets Manager
stand-in. Exports /workloads through the async job API and writes the result under DIR.

Options:
  --workloads N          workloads in the simulated org, 1 to 10000000 (default 50000)
  --out DIR              where the exported object lands (default ./pce-export-demo)
  --format raw|ndjson    default ndjson
  --no-gzip              store uncompressed
  -h, --help             this help

Progress goes to stderr; stdout carries one line, one JSON object: the execution output.

${EXIT_CODES_HELP}`;

const DEMO_FLAGS = {
  workloads: { type: 'string' },
  out: { type: 'string' },
  format: { type: 'string' },
  'no-gzip': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const DEMO_ORG = 1;

export async function demoCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const values = parseFlags(argv, DEMO_FLAGS, {
    gzip: 'the demo gzips by default (--no-gzip stores the object uncompressed)',
  });
  if (values.help) {
    io.stdout(DEMO_USAGE);
    return EXIT_OK;
  }
  const workloads = wholeNumberFlag('--workloads', values.workloads, { min: 1, max: 10_000_000 }) ?? 50_000;
  const input = inputFromFlags(
    { path: '/workloads', 'export-name': 'workloads', format: values.format, 'no-gzip': values['no-gzip'] },
    DEMO_ORG,
  );
  const dir = values.out ?? 'pce-export-demo';
  if (dir.startsWith('s3://'))
    throw new UsageError('--out of demo is a directory (pce-export run writes to --out s3://BUCKET/PREFIX)');
  if (dir === '') throw new UsageError('--out must name a directory');
  checkOutDirectory('--out', dir);

  // The simulator and the engine load only once the command line is known to be right.
  const [{ startSimulator }, { executeExport }] = await Promise.all([
    import('../simulator/index'),
    import('./execute'),
  ]);
  const simulator = await startSimulator({
    tls: true,
    dataset: { workloads },
    jobDurationMs: 3_000,
    retryAfterSeconds: 1,
  });
  io.stderr(
    `PCE simulator listening on ${simulator.url} (org ${DEMO_ORG}, ${workloads} workloads, private CA)`,
  );
  try {
    return await executeExport({
      io,
      pce: {
        url: simulator.url,
        orgId: DEMO_ORG,
        apiKey: simulator.credentials.apiKey,
        apiSecret: simulator.credentials.apiSecret,
        caBundle: simulator.caPem,
      },
      input,
      out: { kind: 'dir', dir },
      transfer: { label: 'received from the PCE', bytes: () => simulator.bytesSent() },
    });
  } finally {
    await simulator.close();
  }
}
