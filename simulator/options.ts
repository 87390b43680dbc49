/** The simulator's options, checked and with their defaults filled in. */
import { randomBytes } from 'node:crypto';
import type { ClockMode } from './clock';
import { DEFAULT_DATASET, type OrgData } from './data';
import type { PopulationSettings } from './flow-population';
import type { DatasetSizes, SimulatorOptions, TrafficOptions } from './types';

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
  readonly clock: ClockMode;
  readonly revision: number;
  /** The flow population (also used to check filters when the older model is on). */
  readonly traffic: PopulationSettings;
  readonly emptyDownloads: number;
  /** `dataset.trafficFlows`, when given: the older fixed-count traffic model. */
  readonly legacyTrafficFlows?: number;
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

function clockMode(mode: SimulatorOptions['clock']): ClockMode {
  if (mode === undefined || mode === 'system' || mode === 'manual') return mode ?? 'system';
  throw new TypeError(`clock must be 'system' or 'manual', got ${String(mode)}`);
}

function time(name: string, value: string | number): number {
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms))
    throw new TypeError(`${name} must be an ISO 8601 time or epoch milliseconds, got ${value}`);
  return ms;
}

function inRange(name: string, value: number, min: number, max: number, integer: boolean): number {
  if (!(value >= min && value <= max) || (integer && !Number.isInteger(value)))
    throw new TypeError(
      `${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${value}`,
    );
  return value;
}

function resolveTraffic(traffic: TrafficOptions): PopulationSettings {
  const burst = traffic.burst;
  return {
    flowsPerDay: inRange('traffic.flowsPerDay', traffic.flowsPerDay ?? 20_000, 1, 20_000_000, true),
    days: inRange('traffic.days', traffic.days ?? 30, 0.001, 3_660, false),
    ...(traffic.until === undefined ? {} : { until: time('traffic.until', traffic.until) }),
    ...(burst === undefined
      ? {}
      : {
          burst: {
            at: time('traffic.burst.at', burst.at),
            flows: inRange('traffic.burst.flows', burst.flows ?? 210_000, 1, 4_000_000, true),
            seconds: inRange('traffic.burst.seconds', burst.seconds ?? 60, 0.001, 86_400, false),
            uniform: (burst.shape ?? 'spread') === 'uniform',
          },
        }),
  };
}

export function resolveOptions(options: SimulatorOptions): ResolvedOptions {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopback(host))
    throw new TypeError(`host must be a loopback address (127.x.x.x, ::1, localhost), got ${host}`);
  const dataset = { ...DEFAULT_DATASET, ...options.dataset };
  for (const [name, value] of Object.entries(dataset)) positiveInt(`dataset.${name}`, value, true);
  if (dataset.eventsPerDay > 1_000_000)
    throw new TypeError(`dataset.eventsPerDay must be at most 1,000,000, got ${dataset.eventsPerDay}`);
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
  const legacy = options.dataset?.trafficFlows;
  if (legacy !== undefined && options.traffic !== undefined)
    throw new TypeError(
      'give either dataset.trafficFlows (the older fixed-count traffic) or traffic, not both',
    );
  const burstShape = options.traffic?.burst?.shape;
  if (burstShape !== undefined && burstShape !== 'spread' && burstShape !== 'uniform')
    throw new TypeError(`traffic.burst.shape must be "spread" or "uniform", got ${burstShape}`);
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
    clock: clockMode(options.clock),
    revision: positiveInt('revision', options.revision ?? 0, true),
    traffic: resolveTraffic(options.traffic ?? {}),
    emptyDownloads: positiveInt('traffic.emptyDownloads', options.traffic?.emptyDownloads ?? 0, true),
    ...(legacy === undefined ? {} : { legacyTrafficFlows: legacy }),
  };
}

/** What the request handlers share with the server. */
export interface ServerContext {
  readonly opts: ResolvedOptions;
  /** Each org's data at the current revision. */
  readonly orgData: ReadonlyMap<number, OrgData>;
  /** An org's data at another revision (a job's snapshot). */
  dataAt(org: number, revision: number): OrgData | undefined;
  /** The base URL, once listening (for absolute hrefs). */
  url(): string;
  /** The simulator's time (epoch ms): what jobs and events are timed by. */
  now(): number;
}
