import { parseArgs } from 'node:util';
import { startSimulator } from '../simulator/index';
import { EXIT_OK, UsageError } from './errors';
import type { CliIo } from './io';
import { executeExport } from './run';

export const DEMO_USAGE = `Usage: pce-export demo [--workloads N] [--out DIR] [--format raw|ndjson] [--no-gzip]

Runs the whole workflow on this machine with nothing to set up: an embedded PCE simulator
(HTTPS with its own private CA, org 1), an embedded S3-compatible server and a Secrets Manager
stand-in. Exports /workloads through the async job API and writes the result under DIR.

Options:
  --workloads N          workloads in the simulated org (default 50000)
  --out DIR              where the exported object lands (default ./pce-export-demo)
  --format raw|ndjson    default ndjson
  --no-gzip              store uncompressed
  -h, --help             this help`;

export async function demoCommand(argv: readonly string[], io: CliIo): Promise<number> {
  let values: {
    workloads?: string;
    out?: string;
    format?: string;
    'no-gzip'?: boolean;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        workloads: { type: 'string' },
        out: { type: 'string' },
        format: { type: 'string' },
        'no-gzip': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${DEMO_USAGE}`);
  }
  if (values.help) {
    io.stdout(DEMO_USAGE);
    return EXIT_OK;
  }
  const workloads = values.workloads === undefined ? 50_000 : Number(values.workloads);
  if (!Number.isInteger(workloads) || workloads < 1 || workloads > 10_000_000) {
    throw new UsageError(
      `--workloads takes a whole number from 1 to 10000000, not ${JSON.stringify(values.workloads)}`,
    );
  }
  if (values.format !== undefined && values.format !== 'raw' && values.format !== 'ndjson') {
    throw new UsageError(`--format is raw or ndjson, not ${JSON.stringify(values.format)}`);
  }

  const simulator = await startSimulator({
    tls: true,
    dataset: { workloads },
    jobDurationMs: 3_000,
    retryAfterSeconds: 1,
  });
  io.stderr(`PCE simulator listening on ${simulator.url} (org 1, ${workloads} workloads, private CA)`);
  try {
    return await executeExport({
      io,
      pce: {
        url: simulator.url,
        orgId: 1,
        apiKey: simulator.credentials.apiKey,
        apiSecret: simulator.credentials.apiSecret,
        caBundle: simulator.caPem,
      },
      input: {
        exportName: 'workloads',
        path: '/workloads',
        ...(values.format ? { format: values.format } : {}),
        ...(values['no-gzip'] ? { gzip: false } : {}),
      },
      out: { kind: 'dir', dir: values.out ?? 'pce-export-demo' },
      transfer: { label: 'received from the PCE', bytes: () => simulator.bytesSent() },
    });
  } finally {
    await simulator.close();
  }
}
