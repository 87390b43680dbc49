import { ExportConfigError } from '../contracts/errors';
import type { EventsRequest } from '../contracts/events';
import type { OutputFormat } from '../contracts/input';
import { MAX_QUERY_METADATA_LENGTH } from '../contracts/limits';
import type { ExportRequest } from '../contracts/state';
import type { TrafficRequest } from '../contracts/traffic';
import { TOOL_NAME, TOOL_VERSION } from '../version';
import { extensionOf } from './formats';

/*
 * S3 layout (Hive-style, so Athena and Spark see `dt` partitions):
 *   {prefix}{exportName}/dt=YYYY-MM-DD/{HHmmss}Z_{executionName}.{json|ndjson}[.gz]|.parquet     the data
 *   {prefix}{exportName}/_manifests/dt=YYYY-MM-DD/{HHmmss}Z_{executionName}.manifest.json       its manifest
 *   {prefix}{exportName}/latest.json                                                            the newest run
 * Date and time are the execution's start time in UTC, so a retried Fetch writes the same key.
 * A `dt=` folder holds data objects only: Athena reads every object below a partition's
 * location, and would fail on a manifest's JSON there.
 *
 * A snapshot run (many exports in one execution) writes one folder:
 *   {prefix}snapshots/{snapshotName}/dt=YYYY-MM-DD/{HHmmss}Z_{executionName}/{exportName}.{ext}
 *   {prefix}snapshots/{snapshotName}/dt=YYYY-MM-DD/{HHmmss}Z_{executionName}/manifest.json
 *   {prefix}snapshots/{snapshotName}/latest.json
 */

/** Execution names end up in keys; anything outside a safe set becomes `_`. */
function safeKeySegment(value: string): string {
  return (
    value
      .replace(/[^A-Za-z0-9_.-]/g, '_')
      .replace(/^\.+/, '_')
      .slice(0, 128) || '_'
  );
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

export interface ObjectKeyInput {
  readonly prefix: string;
  readonly exportName: string;
  readonly format: OutputFormat;
  readonly gzip: boolean;
  readonly executionName: string;
  /** ISO start time of the execution. */
  readonly startTime: string;
}

/** `dt=YYYY-MM-DD` and `{HHmmss}Z_{executionName}` of a run, from its start time in UTC. */
export function runStamp(startTime: string, executionName: string): { partition: string; run: string } {
  const start = new Date(startTime);
  if (Number.isNaN(start.getTime())) {
    throw new ExportConfigError(`Invalid workflow state: state.execution.startTime must be an ISO 8601 time`);
  }
  const date = `${pad(start.getUTCFullYear(), 4)}-${pad(start.getUTCMonth() + 1)}-${pad(start.getUTCDate())}`;
  const time = `${pad(start.getUTCHours())}${pad(start.getUTCMinutes())}${pad(start.getUTCSeconds())}Z`;
  return { partition: `dt=${date}`, run: `${time}_${safeKeySegment(executionName)}` };
}

/** The key input of `request`'s run in `execution`, below `prefix`. */
export function runKeyInput(
  prefix: string,
  request: { readonly name: string; readonly format: OutputFormat; readonly gzip: boolean },
  execution: { readonly name: string; readonly startTime: string },
): ObjectKeyInput {
  return {
    prefix,
    exportName: request.name,
    format: request.format,
    gzip: request.gzip,
    executionName: execution.name,
    startTime: execution.startTime,
  };
}

export function objectKey(input: ObjectKeyInput): string {
  const { partition, run } = runStamp(input.startTime, input.executionName);
  return `${input.prefix}${input.exportName}/${partition}/${run}.${extensionOf(input.format, input.gzip)}`;
}

/** The folder below the prefix that holds every snapshot. */
export const SNAPSHOTS_FOLDER = 'snapshots';

export interface SnapshotFolderInput {
  readonly prefix: string;
  readonly snapshotName: string;
  readonly executionName: string;
  /** ISO start time of the execution. */
  readonly startTime: string;
}

/** `{prefix}snapshots/{name}/dt=YYYY-MM-DD/{HHmmss}Z_{executionName}/`: one snapshot run's folder. */
export function snapshotFolderKey(input: SnapshotFolderInput): string {
  const { partition, run } = runStamp(input.startTime, input.executionName);
  return `${input.prefix}${SNAPSHOTS_FOLDER}/${input.snapshotName}/${partition}/${run}/`;
}

export function snapshotObjectKey(
  folder: string,
  exportName: string,
  format: OutputFormat,
  gzip: boolean,
): string {
  return `${folder}${exportName}.${extensionOf(format, gzip)}`;
}

/** The one manifest of a snapshot run, listing every object of its folder. */
export function snapshotManifestKey(folder: string): string {
  return `${folder}manifest.json`;
}

export function snapshotLatestKey(prefix: string, snapshotName: string): string {
  return `${prefix}${SNAPSHOTS_FOLDER}/${snapshotName}/latest.json`;
}

/**
 * The manifest of `{export}/dt=D/{name}.{ext}` is `{export}/_manifests/dt=D/{name}.manifest.json`:
 * same date, same name, outside the data partitions.
 */
export function manifestKeyFor(key: string): string {
  const replaced = key.replace(/\.(?:(?:json|ndjson)(?:\.gz)?|parquet)$/, '.manifest.json');
  const manifest = replaced === key ? `${key}.manifest.json` : replaced;
  const partition = manifest.lastIndexOf('/dt=');
  return partition < 0 ? manifest : `${manifest.slice(0, partition)}/_manifests${manifest.slice(partition)}`;
}

export function latestKeyFor(prefix: string, exportName: string): string {
  return `${prefix}${exportName}/latest.json`;
}

/*
 * Beside an export's data, outside its `dt=` partitions:
 *   {prefix}{exportName}/_current/run.json                                       the newest complete run (one line)
 *   {prefix}{exportName}/_changes/dt=YYYY-MM-DD/{HHmmss}Z_{execution}.ndjson.gz   what a run changed
 *   {prefix}{exportName}/_state/digests/dt=YYYY-MM-DD/{HHmmss}Z_{execution}.digest.ndjson.gz
 *   {prefix}{exportName}/_state/changes.json                                     the run the next one is compared with
 */

/** `{export}/dt=D/{run}.{ext}` → `{export}/{folder}/dt=D/{run}{suffix}`. */
function beside(key: string, folder: string, suffix: string): string {
  const partition = key.lastIndexOf('/dt=');
  const name = key.slice(key.lastIndexOf('/') + 1);
  const run = name.slice(0, name.indexOf('.'));
  const date = key.slice(partition + 1, key.lastIndexOf('/'));
  return `${key.slice(0, partition)}/${folder}/${date}/${run}${suffix}`;
}

/** `{HHmmss}Z_{executionName}`: the run an object key belongs to. */
export function runIdOf(key: string): string {
  const name = key.slice(key.lastIndexOf('/') + 1);
  return name.slice(0, name.indexOf('.'));
}

export function changesKeyFor(key: string): string {
  return beside(key, '_changes', '.ndjson.gz');
}

export function digestKeyFor(key: string): string {
  return beside(key, '_state/digests', '.digest.ndjson.gz');
}

export function changesStateKey(prefix: string, exportName: string): string {
  return `${prefix}${exportName}/_state/changes.json`;
}

export function currentRunKey(prefix: string, exportName: string): string {
  return `${prefix}${exportName}/_current/run.json`;
}

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** `managed=true&labels=…`, the form the PCE received it in. */
export function encodeQuery(query: Readonly<Record<string, string>>): string {
  return new URLSearchParams(Object.entries(query)).toString();
}

export interface ObjectMetadataInput {
  readonly request: ExportRequest;
  readonly jobHref: string;
  readonly orgId: number;
}

/** User metadata set when the object is uploaded (S3 stores it as `x-amz-meta-*`). */
export function objectMetadata(input: ObjectMetadataInput): Record<string, string> {
  const query = encodeQuery(input.request.query);
  const truncated = query.length > MAX_QUERY_METADATA_LENGTH;
  return {
    'job-href': input.jobHref,
    org: String(input.orgId),
    path: input.request.path,
    query: truncated ? query.slice(0, MAX_QUERY_METADATA_LENGTH) : query,
    ...(truncated ? { 'query-truncated': 'true' } : {}),
    format: input.request.format,
    gzip: String(input.request.gzip),
    ...(input.request.traffic ? trafficMetadata(input.request.traffic) : {}),
    ...(input.request.events ? windowMetadata('events', input.request.events) : {}),
  };
}

/** A windowed export's kind and range in its object metadata. */
function windowMetadata(
  kind: 'events' | 'traffic',
  window: { readonly startDate: string; readonly endDate: string; readonly since?: string },
): Record<string, string> {
  return {
    kind,
    'start-date': window.startDate,
    'end-date': window.endDate,
    ...(window.since === undefined ? {} : { since: window.since }),
  };
}

/** A traffic export's query in its object metadata: the range, decisions and result cap. */
function trafficMetadata(traffic: TrafficRequest): Record<string, string> {
  return {
    ...windowMetadata('traffic', traffic),
    'policy-decisions': traffic.policyDecisions.length > 0 ? traffic.policyDecisions.join(',') : 'all',
    'max-results': String(traffic.maxResults),
  };
}

export interface Manifest {
  readonly exportName: string;
  readonly bucket: string;
  readonly key: string;
  readonly uri: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly objectCount: number;
  readonly format: OutputFormat;
  readonly gzip: boolean;
  readonly contentType: string;
  readonly org: number;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly jobHref: string;
  readonly executionName: string;
  readonly requestedAt: string;
  readonly completedAt: string;
  readonly tool: string;
  /** Present for traffic and events exports only (collections leave it out). */
  readonly kind?: 'traffic' | 'events';
  /** The resolved Explorer query of a traffic export: absolute range, decisions, filters, cap. */
  readonly traffic?: TrafficRequest;
  /** The resolved window of an events export (absolute times, both ends inclusive). */
  readonly events?: EventsRequest;
  /** An incremental events export: how its window was found, and the overlap's events it dropped. */
  readonly incremental?: {
    readonly mode: 'first' | 'continued' | 'caught-up';
    readonly skipped?: { readonly from: string; readonly to: string };
    readonly overlapDropped: number;
  };
}

export type ManifestInput = Omit<Manifest, 'uri' | 'tool'>;

export function buildManifest(input: ManifestInput): Manifest {
  return {
    exportName: input.exportName,
    bucket: input.bucket,
    key: input.key,
    uri: s3Uri(input.bucket, input.key),
    bytes: input.bytes,
    sha256: input.sha256,
    objectCount: input.objectCount,
    format: input.format,
    gzip: input.gzip,
    contentType: input.contentType,
    org: input.org,
    path: input.path,
    query: input.query,
    jobHref: input.jobHref,
    executionName: input.executionName,
    requestedAt: input.requestedAt,
    completedAt: input.completedAt,
    tool: `${TOOL_NAME}/${TOOL_VERSION}`,
    ...(input.traffic ? { kind: 'traffic' as const, traffic: input.traffic } : {}),
    ...(input.events ? { kind: 'events' as const, events: input.events } : {}),
    ...(input.incremental ? { incremental: input.incremental } : {}),
  };
}
