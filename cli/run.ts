import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { ExportConfigError } from '../lambdas/contracts/errors';
import { snapshotInputSchema } from '../lambdas/contracts/input';
import type { ExportOutput, SnapshotOutput } from '../lambdas/contracts/output';
import { describeIssues, parseExportInput } from '../lambdas/export/input';
import { startLocalEngine } from '../local/engine';
import { pendingUploadBytes } from '../local/s3';
import { EXIT_FAILED, EXIT_OK, UsageError } from './errors';
import type { CliIo } from './io';
import { copyToDirectory, keysOf, type OutTarget, snapshotKeysOf } from './output';
import { causeText, createProgress, type Transfer } from './progress';

export const LOCAL_BUCKET = 'pce-export-local';

export const RUN_USAGE = `Usage: pce-export run --pce-url URL --org N --path /collection [options]
       pce-export run --pce-url URL --org N --traffic [traffic options] [options]
       pce-export run --pce-url URL --org N --input-json FILE [options]

Runs the export workflow (the synthesized state machine and the real handlers) on this machine.
Credentials come from the environment: PCE_API_KEY and PCE_API_SECRET.

Options:
  --pce-url URL          PCE base URL, e.g. https://pce.example.com:8443
  --org N                org id (a positive integer)
  --path PATH            org-relative collection path, e.g. /workloads or /labels
  --query KEY=VALUE      filter, repeatable (e.g. --query managed=true)
  --export-name NAME     name used in the S3 key (default: derived from the path; "traffic" for --traffic)
  --out DIR              write the object to DIR/<key> (default: ./pce-export-output)
  --out s3://BUCKET/PREFIX
                         write to S3 (AWS credentials from the standard chain)
  --s3-endpoint URL      S3-compatible endpoint for --out s3://…
  --format raw|ndjson    raw = the PCE's JSON array byte for byte; ndjson = one object per line (default ndjson)
  --gzip | --no-gzip     gzip the object (default --gzip)
  --ca-file PEM          CA bundle to trust for the PCE's certificate, in addition to the system roots
  --max-wait SECONDS     give up on the job after this long (default 3600)
  --input-json FILE      the whole execution input from a JSON file, instead of the export flags:
                         one export's input, or a snapshot {"snapshot": {"name": "morning",
                         "exports": [{"exportName": "labels", "path": "/labels"}, …]}} that writes
                         every export into one folder with one manifest
  -h, --help             this help

Traffic options (Explorer traffic flows through the async query API, instead of --path/--query):
  --traffic              export traffic flows
  --since DURATION       the range up to the start of the run: 24h, 7d, 90m, 2w (default 24h)
  --start ISO            absolute range start, e.g. 2026-01-01T00:00:00Z (instead of --since)
  --end ISO              absolute range end (default: the start of the run)
  --policy-decision D    allowed, potentially_blocked, blocked or unknown; repeatable (default: all)
  --max-results N        most flows returned, 1 to 200000 (default 100000)
  --source ACTOR         include flows from ACTOR, repeatable (alternatives); ACTOR is a label,
                         label group, workload or IP list href, an IP address or a CIDR block;
                         A,B (comma-separated) matches flows from actors that are both A and B
  --destination ACTOR    include flows to ACTOR, as --source
  --exclude-source ACTOR, --exclude-destination ACTOR
                         leave out flows from / to ACTOR, repeatable

The last line on stdout is one JSON object: the execution output, or {"error", "cause"}.
Exit codes: 0 success, 1 the export failed, 2 usage or configuration error.`;

export interface RunArgs {
  readonly pceUrl: string;
  readonly orgId: number;
  readonly input: Record<string, unknown>;
  readonly out: OutTarget;
  readonly s3Endpoint?: string;
  readonly caFile?: string;
}

export function parseRunArgs(argv: readonly string[]): RunArgs | 'help' {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${RUN_USAGE}`);
  }
  if (values.help) return 'help';

  const pceUrl = required(values['pce-url'], '--pce-url');
  let url: URL;
  try {
    url = new URL(pceUrl);
  } catch {
    throw new UsageError(
      `--pce-url ${JSON.stringify(pceUrl)} is not a URL (expected e.g. https://pce.example.com:8443)`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new UsageError('--pce-url must be an https:// URL');
  if (url.username || url.password)
    throw new UsageError('--pce-url must not contain credentials; use PCE_API_KEY and PCE_API_SECRET');

  const org = required(values.org, '--org');
  if (!/^[1-9]\d{0,9}$/.test(org))
    throw new UsageError(`--org must be a positive integer, not ${JSON.stringify(org)}`);

  const query: Record<string, string> = {};
  for (const pair of values.query ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--query takes KEY=VALUE, not ${JSON.stringify(pair)}`);
    query[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  if (values.gzip && values['no-gzip']) throw new UsageError('--gzip and --no-gzip contradict each other');

  const maxWait = values['max-wait'];
  if (maxWait !== undefined && !/^\d+$/.test(maxWait))
    throw new UsageError(`--max-wait takes whole seconds, not ${JSON.stringify(maxWait)}`);
  const format = values.format;
  if (format !== undefined && format !== 'raw' && format !== 'ndjson')
    throw new UsageError(`--format is raw or ndjson, not ${JSON.stringify(format)}`);

  const stray = TRAFFIC_FLAGS.find((flag) => !values.traffic && values[flag] !== undefined);
  if (stray) throw new UsageError(`--${stray} goes with --traffic`);
  const inputFile = values['input-json'];
  const flagged = INPUT_FLAGS.find((flag) => values[flag] !== undefined);
  if (inputFile !== undefined && flagged !== undefined)
    throw new UsageError(`--${flagged} does not go with --input-json: the file holds the whole input`);
  const input: Record<string, unknown> =
    inputFile !== undefined
      ? readInputFile(inputFile)
      : {
          ...(values.traffic ? trafficInput(values) : { path: required(values.path, '--path') }),
          ...(Object.keys(query).length ? { query } : {}),
          ...(values['export-name'] ? { exportName: values['export-name'] } : {}),
          ...(format ? { format } : {}),
          ...(values.gzip ? { gzip: true } : values['no-gzip'] ? { gzip: false } : {}),
          ...(maxWait ? { maxWaitSeconds: Number(maxWait) } : {}),
        };
  try {
    if (inputFile === undefined) parseExportInput(input, 'options');
  } catch (error) {
    if (error instanceof ExportConfigError) throw new UsageError(flagNames(error.message));
    throw error;
  }

  const s3Endpoint = values['s3-endpoint'];
  const out = parseOut(values.out ?? 'pce-export-output');
  if (s3Endpoint && out.kind !== 's3')
    throw new UsageError('--s3-endpoint goes with --out s3://BUCKET/PREFIX');
  return { pceUrl: url.origin, orgId: Number(org), input, out, s3Endpoint, caFile: values['ca-file'] };
}

const TRAFFIC_FLAGS = [
  'since',
  'start',
  'end',
  'policy-decision',
  'max-results',
  'source',
  'destination',
  'exclude-source',
  'exclude-destination',
] as const;

/** The flags that make up an export input; `--input-json` replaces all of them. */
const INPUT_FLAGS = [
  'path',
  'query',
  'export-name',
  'format',
  'gzip',
  'no-gzip',
  'max-wait',
  'traffic',
  ...TRAFFIC_FLAGS,
] as const;

/**
 * The execution input in a `--input-json` file: an export input, or a snapshot whose members
 * are export inputs or the names of exports in the deploy configuration.
 */
function readInputFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--input-json ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? error})`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--input-json ${file} is not valid JSON (${(error as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new UsageError(`--input-json ${file} must hold one JSON object`);
  if (!('snapshot' in value)) {
    try {
      parseExportInput(value, 'input');
    } catch (error) {
      if (error instanceof ExportConfigError) throw new UsageError(`--input-json ${file}: ${error.message}`);
      throw error;
    }
    return value as Record<string, unknown>;
  }
  const parsed = snapshotInputSchema.safeParse(value);
  if (!parsed.success)
    throw new UsageError(`--input-json ${file}: Invalid input: ${describeIssues(parsed.error, 'input')}`);
  return value as Record<string, unknown>;
}

/** The `{kind: "traffic", traffic: {...}}` input the traffic flags stand for. */
function trafficInput(values: ReturnType<typeof parse>['values']): Record<string, unknown> {
  for (const flag of ['path', 'query'] as const) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} does not go with --traffic`);
  }
  const maxResults = values['max-results'];
  if (maxResults !== undefined && !/^\d{1,9}$/.test(maxResults))
    throw new UsageError(`--max-results takes a whole number, not ${JSON.stringify(maxResults)}`);
  const groups = (flags: string[] | undefined) =>
    (flags ?? []).map((flag) => (flag.includes(',') ? flag.split(',').map((actor) => actor.trim()) : flag));
  const filter = (include: string[] | undefined, exclude: string[] | undefined) =>
    include === undefined && exclude === undefined
      ? undefined
      : { ...(include ? { include: groups(include) } : {}), ...(exclude ? { exclude } : {}) };
  const sources = filter(values.source, values['exclude-source']);
  const destinations = filter(values.destination, values['exclude-destination']);
  const traffic = {
    ...(values.since === undefined ? {} : { since: values.since }),
    ...(values.start === undefined ? {} : { start: values.start }),
    ...(values.end === undefined ? {} : { end: values.end }),
    ...(values['policy-decision'] === undefined ? {} : { policyDecisions: values['policy-decision'] }),
    ...(maxResults === undefined ? {} : { maxResults: Number(maxResults) }),
    ...(sources === undefined ? {} : { sources }),
    ...(destinations === undefined ? {} : { destinations }),
  };
  return { kind: 'traffic', traffic };
}

/** Input field names in a validation message → the flags they came from. */
function flagNames(message: string): string {
  return message
    .replace(/options\.traffic\.policyDecisions(\.\d+)?/g, '--policy-decision')
    .replace(/options\.traffic\.maxResults/g, '--max-results')
    .replace(/options\.traffic\.(sources|destinations)\.include(\.\d+)*/g, (_m, side: string) =>
      side === 'sources' ? '--source' : '--destination',
    )
    .replace(/options\.traffic\.(sources|destinations)\.exclude(\.\d+)?/g, (_m, side: string) =>
      side === 'sources' ? '--exclude-source' : '--exclude-destination',
    )
    .replace(/options\.traffic\.(since|start|end)/g, '--$1')
    .replaceAll('options.', '--')
    .replace('maxWaitSeconds', 'max-wait')
    .replace(/with start or end/, 'with --start or --end')
    .replace(/needs a start/, 'needs --start')
    .replace(/must be after start/, 'must be after --start');
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      'pce-url': { type: 'string' },
      org: { type: 'string' },
      path: { type: 'string' },
      query: { type: 'string', multiple: true },
      'export-name': { type: 'string' },
      out: { type: 'string' },
      's3-endpoint': { type: 'string' },
      format: { type: 'string' },
      gzip: { type: 'boolean' },
      'no-gzip': { type: 'boolean' },
      'ca-file': { type: 'string' },
      'max-wait': { type: 'string' },
      traffic: { type: 'boolean' },
      since: { type: 'string' },
      start: { type: 'string' },
      end: { type: 'string' },
      'policy-decision': { type: 'string', multiple: true },
      'max-results': { type: 'string' },
      source: { type: 'string', multiple: true },
      destination: { type: 'string', multiple: true },
      'exclude-source': { type: 'string', multiple: true },
      'exclude-destination': { type: 'string', multiple: true },
      'input-json': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`${flag} is required\n\n${RUN_USAGE}`);
  return value;
}

export function parseOut(out: string): OutTarget {
  if (!out.startsWith('s3://')) return { kind: 'dir', dir: out };
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(out);
  if (!match?.[1])
    throw new UsageError(`--out ${JSON.stringify(out)} is not s3://BUCKET/PREFIX with a valid bucket name`);
  let prefix = match[2] ?? '';
  if (prefix && !prefix.endsWith('/')) prefix += '/';
  return { kind: 's3', bucket: match[1], prefix };
}

export interface Credentials {
  readonly apiKey: string;
  readonly apiSecret: string;
}

export function credentialsFromEnv(env: NodeJS.ProcessEnv): Credentials {
  const apiKey = env.PCE_API_KEY;
  const apiSecret = env.PCE_API_SECRET;
  if (!apiKey || !apiSecret) {
    throw new UsageError(
      'PCE_API_KEY and PCE_API_SECRET must be set in the environment (credentials are never taken from flags)',
    );
  }
  return { apiKey, apiSecret };
}

/** `pce-export run`: the real engine against any PCE. */
export async function runCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseRunArgs(argv);
  if (args === 'help') {
    io.stdout(RUN_USAGE);
    return EXIT_OK;
  }
  const credentials = credentialsFromEnv(process.env);
  let caBundle: string | undefined;
  if (args.caFile) {
    caBundle = await readFile(args.caFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`--ca-file ${args.caFile} cannot be read (${error.code ?? error.message})`);
    });
    if (!caBundle.includes('-----BEGIN CERTIFICATE-----'))
      throw new UsageError(`--ca-file ${args.caFile} holds no PEM certificate`);
  }
  return executeExport({
    io,
    pce: { url: args.pceUrl, orgId: args.orgId, ...credentials, caBundle },
    input: args.input,
    out: args.out,
    s3Endpoint: args.s3Endpoint,
  });
}

export interface ExecuteExportOptions {
  readonly io: CliIo;
  readonly pce: { url: string; orgId: number; apiKey: string; apiSecret: string; caBundle?: string };
  readonly input: Record<string, unknown>;
  readonly out: OutTarget;
  readonly s3Endpoint?: string;
  /** Progress of the streaming Fetch. @default bytes written to the embedded S3, when it is used */
  readonly transfer?: Transfer;
}

/** Runs one export locally, reports progress, and prints the output (or the failure) as the last line. */
export async function executeExport(options: ExecuteExportOptions): Promise<number> {
  const { io, out } = options;
  const engine = await startLocalEngine({
    s3:
      out.kind === 'dir'
        ? { embedded: true, bucket: LOCAL_BUCKET }
        : { embedded: false, endpoint: options.s3Endpoint },
  });
  const bucket = out.kind === 'dir' ? LOCAL_BUCKET : out.bucket;
  const prefix = out.kind === 'dir' ? '' : out.prefix;
  const progress = createProgress({
    io,
    transfer:
      options.transfer ??
      (engine.s3
        ? {
            label: 'written to S3',
            bytes: () => pendingUploadBytes(engine.s3 as NonNullable<typeof engine.s3>, bucket),
          }
        : undefined),
  });
  try {
    const outcome = await engine.run({
      pce: options.pce,
      bucket,
      prefix,
      input: options.input,
      onEvent: progress.onEvent,
    });
    if (outcome.status === 'FAILED') {
      io.stdout(JSON.stringify({ error: outcome.error, cause: causeText(outcome.cause) }));
      return EXIT_FAILED;
    }
    const output = outcome.output as ExportOutput | SnapshotOutput;
    if (out.kind === 'dir' && engine.s3 && 'snapshotName' in output) {
      // A snapshot: the whole folder, and localPath is the folder.
      const keys = snapshotKeysOf(output, prefix);
      const paths = await copyToDirectory(engine.s3.endpoint, bucket, keys, out.dir);
      const manifestPath = paths[output.manifestKey];
      io.stdout(JSON.stringify({ ...output, localPath: manifestPath && dirname(manifestPath) }));
    } else if (out.kind === 'dir' && engine.s3 && !('snapshotName' in output)) {
      const paths = await copyToDirectory(engine.s3.endpoint, bucket, keysOf(output, prefix), out.dir);
      io.stdout(JSON.stringify({ ...output, localPath: paths[output.key] }));
    } else {
      io.stdout(JSON.stringify(output));
    }
    return EXIT_OK;
  } finally {
    progress.stop();
    await engine.close();
  }
}
