import { ExportConfigError } from '../lambdas/contracts/errors';
import { MAX_SUBMIT_RETRY_WINDOW_SECONDS } from '../lambdas/contracts/limits';
import { orgIdIssue, pceUrlIssue } from '../lambdas/contracts/patterns';
import { readStorageSettings } from '../lambdas/export/env';
import { UsageError } from './errors';
import { parseFlags } from './flags';
import { INPUT_FLAGS, inputFromFile, inputFromFlags, type RunInput } from './input';
import { checkOutDirectory } from './out-dir';
import type { OutTarget } from './output';
import { type RunProxy, runProxy } from './proxy';

/** The flags of `pce-export run`. */
const RUN_FLAGS = {
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
  proxy: { type: 'string' },
  'max-wait': { type: 'string' },
  'retry-window': { type: 'string' },
  traffic: { type: 'boolean' },
  events: { type: 'boolean' },
  since: { type: 'string' },
  start: { type: 'string' },
  end: { type: 'string' },
  'policy-decision': { type: 'string', multiple: true },
  'max-results': { type: 'string' },
  source: { type: 'string', multiple: true },
  destination: { type: 'string', multiple: true },
  'exclude-source': { type: 'string', multiple: true },
  'exclude-destination': { type: 'string', multiple: true },
  service: { type: 'string', multiple: true },
  'exclude-service': { type: 'string', multiple: true },
  transmission: { type: 'string', multiple: true },
  'draft-policy': { type: 'boolean' },
  'ip-lists-include-workloads': { type: 'boolean' },
  'max-queries': { type: 'string' },
  'allow-partial': { type: 'boolean' },
  incremental: { type: 'boolean' },
  overlap: { type: 'string' },
  'catch-up': { type: 'string' },
  'input-json': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const CREDENTIAL_FLAG =
  'credentials are never taken from flags: set PCE_API_KEY and PCE_API_SECRET in the environment';
const NO_VERIFY_FLAG =
  "the PCE's certificate is always verified: give the CA that issued it with --ca-file PEM";
const VERBOSE_FLAG =
  "progress always goes to stderr; POWERTOOLS_LOG_LEVEL=DEBUG in the environment adds the functions' log lines";

/** Flags of other tools a user is likely to try, and what to give instead. */
const RUN_HINTS = {
  output: 'did you mean --out?',
  o: 'did you mean --out?',
  p: 'did you mean --path?',
  q: 'did you mean --query?',
  from: 'did you mean --start?',
  until: 'did you mean --end?',
  to: 'did you mean --end?',
  src: 'did you mean --source?',
  dst: 'did you mean --destination?',
  'api-key': CREDENTIAL_FLAG,
  'api-secret': CREDENTIAL_FLAG,
  key: CREDENTIAL_FLAG,
  secret: CREDENTIAL_FLAG,
  user: CREDENTIAL_FLAG,
  password: CREDENTIAL_FLAG,
  insecure: NO_VERIFY_FLAG,
  k: NO_VERIFY_FLAG,
  x: 'did you mean --proxy?',
  'no-verify': NO_VERIFY_FLAG,
  verbose: VERBOSE_FLAG,
  v: VERBOSE_FLAG,
  debug: VERBOSE_FLAG,
} as const;

interface RunArgs {
  /** The PCE origin, e.g. `https://pce.example.com:8443`. */
  readonly pceUrl: string;
  readonly orgId: number;
  readonly input: RunInput;
  readonly out: OutTarget;
  readonly s3Endpoint?: string;
  readonly caFile?: string;
  /** `--proxy`, or HTTPS_PROXY with NO_PROXY. */
  readonly proxy?: RunProxy;
  /** `--retry-window`: how long Submit waits out a PCE that does not take the job. @default the deployed 600 s */
  readonly retryWindowSeconds?: number;
}

/** Parses and checks the `run` flags: everything that can be checked before the engine starts. */
export function parseRunArgs(
  argv: readonly string[],
  now = new Date(),
  env: Readonly<Record<string, string | undefined>> = process.env,
): RunArgs | 'help' {
  const values = parseFlags(argv, RUN_FLAGS, RUN_HINTS);
  if (values.help) return 'help';

  const pceUrl = parsePceUrl(
    required(values['pce-url'], '--pce-url', 'e.g. --pce-url https://pce.example.com:8443'),
  );
  const orgId = parseOrg(required(values.org, '--org', 'e.g. --org 1'));

  const inputFile = values['input-json'];
  const flagged = INPUT_FLAGS.find((flag) => values[flag] !== undefined);
  if (inputFile !== undefined && flagged !== undefined)
    throw new UsageError(`--${flagged} does not go with --input-json: the file holds the whole input`);
  const input = inputFile !== undefined ? inputFromFile(inputFile) : inputFromFlags(values, orgId, now);

  const out = parseOut(values.out ?? 'pce-export-output');
  const s3Endpoint = values['s3-endpoint'];
  if (s3Endpoint !== undefined) {
    if (out.kind !== 's3') throw new UsageError('--s3-endpoint goes with --out s3://BUCKET/PREFIX');
    parseEndpoint(s3Endpoint);
  }
  const proxy = runProxy(values.proxy, env);
  const window = values['retry-window'];
  return {
    pceUrl,
    orgId,
    input,
    out,
    s3Endpoint,
    caFile: values['ca-file'],
    ...(proxy ? { proxy } : {}),
    ...(window === undefined ? {} : { retryWindowSeconds: parseRetryWindow(window) }),
  };
}

/** `--retry-window`, by the rule the deploy configuration applies to `submitRetryWindowSeconds`. */
function parseRetryWindow(raw: string): number {
  const seconds = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(seconds <= MAX_SUBMIT_RETRY_WINDOW_SECONDS))
    throw new UsageError(
      `--retry-window must be a whole number of seconds from 0 to ${MAX_SUBMIT_RETRY_WINDOW_SECONDS}, not ${JSON.stringify(raw)}`,
    );
  return seconds;
}

function required(value: string | undefined, flag: string, example: string): string {
  if (value === undefined || value === '') throw new UsageError(`${flag} is required (${example})`);
  return value;
}

/**
 * `--pce-url`, by the rule the deploy configuration applies to `pce.url`: https, or http on the
 * loopback interface; the origin only. When it fails, the URL to give instead where there is one.
 */
function parsePceUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // A URL with user info is not echoed: that may be a credential.
    const given = raw.includes('@') ? '' : `, not ${JSON.stringify(raw)}`;
    throw new UsageError(`--pce-url must be a URL such as https://pce.example.com:8443${given}`);
  }
  if (url.username !== '' || url.password !== '')
    throw new UsageError(
      '--pce-url must not hold credentials: set PCE_API_KEY and PCE_API_SECRET in the environment',
    );
  const issue = pceUrlIssue(raw);
  if (issue === undefined) return url.origin;
  const instead = [url.origin, `https://${url.host}`].find(
    (candidate) => pceUrlIssue(candidate) === undefined,
  );
  // The rule names the origin to give when it is the user's own (a URL with a path or a query).
  const phrase = instead && !issue.includes(`"${instead}"`) ? `${issue}: use --pce-url ${instead}` : issue;
  throw new UsageError(`--pce-url ${phrase}`);
}

/** `--org`, by the rule the deploy configuration applies to `pce.orgId`. */
function parseOrg(raw: string): number {
  const orgId = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  const issue = orgIdIssue(orgId);
  if (issue) throw new UsageError(`--org ${issue}, not ${JSON.stringify(raw)}`);
  return orgId;
}

/** `--out DIR` or `--out s3://BUCKET/PREFIX`, the bucket and prefix by the rules the functions apply. */
function parseOut(out: string): OutTarget {
  if (out === '') throw new UsageError('--out must name a directory or s3://BUCKET/PREFIX');
  if (!out.startsWith('s3://')) {
    checkOutDirectory('--out', out);
    return { kind: 'dir', dir: out };
  }
  const rest = out.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? '' : rest.slice(slash + 1);
  try {
    const storage = readStorageSettings({ EXPORT_BUCKET: bucket, EXPORT_PREFIX: prefix });
    return { kind: 's3', bucket: storage.bucket, prefix: storage.prefix };
  } catch (error) {
    if (!(error instanceof ExportConfigError)) throw error;
    if (error.message.includes('EXPORT_PREFIX'))
      throw new UsageError(
        `--out ${JSON.stringify(out)} has a key prefix S3 keys cannot take here: use only letters, digits and !_.*'()=/-, with no "." or ".." segments`,
      );
    const lower = bucket.toLowerCase().replaceAll('_', '-');
    const instead =
      lower !== bucket && bucketIsValid(lower)
        ? `: use --out s3://${lower}${slash < 0 ? '' : `/${prefix}`}`
        : '';
    throw new UsageError(
      `--out ${JSON.stringify(out)} does not name a valid S3 bucket (3 to 63 lowercase letters, digits, "." and "-")${instead}`,
    );
  }
}

function bucketIsValid(bucket: string): boolean {
  try {
    readStorageSettings({ EXPORT_BUCKET: bucket });
    return true;
  } catch {
    return false;
  }
}

function parseEndpoint(raw: string): void {
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:'))
    throw new UsageError(`--s3-endpoint must be an http:// or https:// URL, not ${JSON.stringify(raw)}`);
}
