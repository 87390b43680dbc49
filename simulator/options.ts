/** The simulator's options, checked and with their defaults filled in. */
import { randomBytes } from 'node:crypto';
import { DEFAULT_DATASET, type OrgData } from './data';
import type { DatasetSizes, SimulatorOptions } from './types';

export interface ResolvedOptions {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly credentials: { readonly apiKey: string; readonly apiSecret: string };
  readonly orgs: readonly number[];
  readonly seed: number;
  readonly dataset: Readonly<Required<DatasetSizes>>;
  readonly jobDurationMs: number;
  readonly retryAfterSeconds: number;
  readonly rateLimitPerMinute: number;
  readonly syncLimit: number;
  readonly locationStyle: 'relative' | 'absolute';
  readonly maxRecordedRequests: number;
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|::1|localhost)$/;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

function positiveInt(name: string, value: number, allowZero = false): number {
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1))
    throw new TypeError(`${name} must be an integer >= ${allowZero ? 0 : 1}, got ${value}`);
  return value;
}

export function resolveOptions(options: SimulatorOptions): ResolvedOptions {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopback(host))
    throw new TypeError(`host must be a loopback address (127.x.x.x, ::1, localhost), got ${host}`);
  const dataset = { ...DEFAULT_DATASET, ...options.dataset };
  for (const [name, value] of Object.entries(dataset)) positiveInt(`dataset.${name}`, value, true);
  const orgs = options.orgs ?? [1];
  for (const org of orgs) positiveInt('orgs[]', org);
  const rate = options.rateLimitPerMinute ?? 500;
  if (!(rate >= 0)) throw new TypeError(`rateLimitPerMinute must be >= 0, got ${rate}`);
  const credentials = options.credentials ?? {
    apiKey: `api_${randomBytes(8).toString('hex')}`,
    apiSecret: randomBytes(32).toString('hex'),
  };
  if (!credentials.apiKey || credentials.apiKey.includes(':'))
    throw new TypeError('apiKey must be non-empty without ":"');
  return {
    host,
    port: positiveInt('port', options.port ?? 0, true),
    tls: options.tls ?? false,
    credentials,
    orgs,
    seed: positiveInt('seed', options.seed ?? 1, true),
    dataset,
    jobDurationMs: positiveInt('jobDurationMs', options.jobDurationMs ?? 1500, true),
    retryAfterSeconds: positiveInt('retryAfterSeconds', options.retryAfterSeconds ?? 1, true),
    rateLimitPerMinute: rate,
    syncLimit: positiveInt('syncLimit', options.syncLimit ?? 500),
    locationStyle: options.locationStyle ?? 'relative',
    maxRecordedRequests: positiveInt('maxRecordedRequests', options.maxRecordedRequests ?? 10_000, true),
  };
}

/** What the request handlers share with the server. */
export interface ServerContext {
  readonly opts: ResolvedOptions;
  readonly orgData: ReadonlyMap<number, OrgData>;
  /** The base URL, once listening (for absolute hrefs). */
  url(): string;
}
