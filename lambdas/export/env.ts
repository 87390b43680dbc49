import {
  CREDENTIAL_SOURCE_VARIABLE,
  type CredentialSource,
  credentialSourceSchema,
} from '../contracts/credentials';
import { ExportConfigError } from '../contracts/errors';
import { DEFAULT_SUBMIT_RETRY_WINDOW_SECONDS, MAX_SUBMIT_RETRY_WINDOW_SECONDS } from '../contracts/limits';
import { BUCKET_NAME, keyPrefixIssue, orgIdIssue, pceUrlIssue } from '../contracts/patterns';
import { NO_PROXY_ENTRY, NO_PROXY_ENTRY_RULE, proxyUrlIssue } from '../contracts/proxy';
import type { PceProxy } from '../pce/dispatcher';
import type { RetryAfterBounds } from '../pce/types';

/*
 * Configuration comes from the Lambda environment and is read on every invocation (cheap, and
 * the local runner changes it between runs). Each handler reads only the groups it needs, so a
 * variable one handler does not use cannot fail it. A missing or invalid value throws
 * ExportConfigError naming the variable. None of these variables holds a credential.
 */

export type Env = Readonly<Record<string, string | undefined>>;

export interface PceSettings {
  /** Base URL without `/api/v2`, e.g. `https://pce.example.com:8443`. */
  readonly baseUrl: string;
  readonly orgId: number;
  /** Secrets Manager secret id (name or ARN) holding the API key. */
  readonly secretId: string;
  /** How long a fetched secret is reused. */
  readonly secretCacheSeconds: number;
  /** Where the secret's values come from, as messages name them (`PCE_CREDENTIAL_SOURCE`). @default the secret's fields */
  readonly credentialSource?: CredentialSource;
  readonly retryAfter: RetryAfterBounds;
  /** `PCE_PROXY_URL` and `PCE_NO_PROXY`: the proxy PCE requests go through, if any. */
  readonly proxy?: PceProxy;
}

export interface PollSettings {
  /** Longest single wait between polls. */
  readonly maxIntervalSeconds: number;
  /** Polls after which a job that is still pending or running counts as timed out. */
  readonly maxPolls: number;
}

export interface SubmitSettings {
  /** How long after its first attempt Submit keeps trying a PCE that is unavailable. */
  readonly retryWindowSeconds: number;
}

export interface StorageSettings {
  readonly bucket: string;
  /** Key prefix, empty or ending in `/`. */
  readonly prefix: string;
  readonly partSizeBytes: number;
  readonly queueSize: number;
}

const MIB = 1024 * 1024;

function raw(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function required(env: Env, name: string, hint: string): string {
  const value = raw(env, name);
  if (value === undefined) throw new ExportConfigError(`Environment variable ${name} is not set (${hint})`);
  return value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^[0-9]+$/.test(value)) {
    throw new ExportConfigError(`Environment variable ${name} must be a whole number, got "${value}"`);
  }
  const parsed = Number(value);
  if (parsed < min || parsed > max) {
    throw new ExportConfigError(
      `Environment variable ${name} must be between ${min} and ${max}, got ${parsed}`,
    );
  }
  return parsed;
}

/** `PCE_URL`: the PCE origin, by the rule every floor applies (`pceUrlIssue`). */
function parsePceUrl(value: string, name = 'PCE_URL'): string {
  const issue = pceUrlIssue(value);
  if (issue !== undefined) throw new ExportConfigError(`Environment variable ${name} ${issue}`);
  return new URL(value).origin;
}

export function readPceSettings(env: Env = process.env): PceSettings {
  const baseUrl = parsePceUrl(
    required(env, 'PCE_URL', 'the PCE base URL, e.g. https://pce.example.com:8443'),
  );
  const orgText = required(env, 'PCE_ORG_ID', 'the PCE org id, e.g. 1');
  const orgId = /^[0-9]+$/.test(orgText) ? Number(orgText) : Number.NaN;
  const orgIssue = orgIdIssue(orgId);
  if (orgIssue) throw new ExportConfigError(`Environment variable PCE_ORG_ID ${orgIssue}, got "${orgText}"`);
  const secretId = required(env, 'PCE_SECRET_ID', 'the Secrets Manager secret holding the PCE API key');
  const minSeconds = integer(env, 'RETRY_AFTER_MIN_SECONDS', 1, 0, 3600);
  const maxSeconds = integer(env, 'RETRY_AFTER_MAX_SECONDS', 300, 1, 3600);
  if (maxSeconds < minSeconds) {
    throw new ExportConfigError(
      `Environment variable RETRY_AFTER_MAX_SECONDS (${maxSeconds}) must not be below RETRY_AFTER_MIN_SECONDS (${minSeconds})`,
    );
  }
  const defaultSeconds = integer(env, 'RETRY_AFTER_DEFAULT_SECONDS', 5, 0, 3600);
  if (defaultSeconds < minSeconds || defaultSeconds > maxSeconds) {
    throw new ExportConfigError(
      `Environment variable RETRY_AFTER_DEFAULT_SECONDS (${defaultSeconds}) must lie between RETRY_AFTER_MIN_SECONDS (${minSeconds}) and RETRY_AFTER_MAX_SECONDS (${maxSeconds})`,
    );
  }
  const proxy = readProxy(env);
  const credentialSource = readCredentialSource(env);
  return {
    baseUrl,
    orgId,
    secretId,
    secretCacheSeconds: integer(env, 'SECRET_CACHE_SECONDS', 300, 0, 86_400),
    retryAfter: { minSeconds, maxSeconds, defaultSeconds },
    ...(proxy ? { proxy } : {}),
    ...(credentialSource === undefined ? {} : { credentialSource }),
  };
}

/** `PCE_PROXY_URL` (http(s)://host:port) and `PCE_NO_PROXY` (comma-separated hosts), by the rules of the deploy configuration. */
function readProxy(env: Env): PceProxy | undefined {
  const url = raw(env, 'PCE_PROXY_URL');
  const noProxy = (raw(env, 'PCE_NO_PROXY') ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (url === undefined) {
    if (noProxy.length > 0)
      throw new ExportConfigError('Environment variable PCE_NO_PROXY is set without PCE_PROXY_URL');
    return undefined;
  }
  const issue = proxyUrlIssue(url);
  if (issue !== undefined) throw new ExportConfigError(`Environment variable PCE_PROXY_URL ${issue}`);
  const bad = noProxy.find((entry) => !NO_PROXY_ENTRY.test(entry));
  if (bad !== undefined)
    throw new ExportConfigError(`Environment variable PCE_NO_PROXY entry "${bad}" ${NO_PROXY_ENTRY_RULE}`);
  return { url: new URL(url).origin, noProxy };
}

/** `PCE_CREDENTIAL_SOURCE`: where the secret's values come from, when not from the secret itself. */
function readCredentialSource(env: Env): CredentialSource | undefined {
  const value = raw(env, CREDENTIAL_SOURCE_VARIABLE);
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    parsed = undefined;
  }
  const source = credentialSourceSchema.safeParse(parsed);
  if (!source.success)
    throw new ExportConfigError(
      `Environment variable ${CREDENTIAL_SOURCE_VARIABLE} must be a JSON object {"apiKey", "apiSecret", "caBundle"} of names`,
    );
  return source.data;
}

export function readPollSettings(env: Env = process.env): PollSettings {
  return {
    maxIntervalSeconds: integer(env, 'POLL_MAX_INTERVAL_SECONDS', 300, 1, 86_400),
    maxPolls: integer(env, 'MAX_POLLS', 1000, 1, 10_000),
  };
}

export function readSubmitSettings(env: Env = process.env): SubmitSettings {
  return {
    retryWindowSeconds: integer(
      env,
      'SUBMIT_RETRY_WINDOW_SECONDS',
      DEFAULT_SUBMIT_RETRY_WINDOW_SECONDS,
      0,
      MAX_SUBMIT_RETRY_WINDOW_SECONDS,
    ),
  };
}

/**
 * `EXPORT_PREFIX` normalised (no leading `/`, a trailing `/` unless empty), then held to the key
 * prefix rule the deploy configuration and the IAM scoping use (`keyPrefixIssue`).
 */
export function normalisePrefix(value: string | undefined, name = 'EXPORT_PREFIX'): string {
  const trimmed = (value ?? '').trim().replace(/^\/+/, '');
  const prefix = trimmed === '' || trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
  const issue = keyPrefixIssue(prefix);
  if (issue !== undefined) throw new ExportConfigError(`Environment variable ${name} ${issue}`);
  return prefix;
}

export function readStorageSettings(env: Env = process.env): StorageSettings {
  const bucket = required(env, 'EXPORT_BUCKET', 'the S3 bucket the exports are written to');
  if (!BUCKET_NAME.test(bucket)) {
    throw new ExportConfigError(
      `Environment variable EXPORT_BUCKET is not a valid S3 bucket name: "${bucket}"`,
    );
  }
  return {
    bucket,
    prefix: normalisePrefix(env.EXPORT_PREFIX),
    // S3's smallest part is 5 MiB and its largest 5 GiB.
    partSizeBytes: integer(env, 'UPLOAD_PART_SIZE_MIB', 8, 5, 5120) * MIB,
    queueSize: integer(env, 'UPLOAD_QUEUE_SIZE', 4, 1, 64),
  };
}
