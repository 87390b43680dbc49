import { ExportConfigError } from '../contracts/errors';
import type { OutputFormat } from '../contracts/input';
import { MAX_QUERY_METADATA_LENGTH } from '../contracts/limits';
import type { ExportRequest } from '../contracts/state';
import type { TrafficRequest } from '../contracts/traffic';
import { TOOL_NAME, TOOL_VERSION } from '../version';

/*
 * S3 layout (Hive-style, so Athena and Spark see `dt` partitions):
 *   {prefix}{exportName}/dt=YYYY-MM-DD/{HHmmss}Z_{executionName}.{json|ndjson}[.gz]              the data
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

function extensionFor(format: OutputFormat, gzip: boolean): string {
  return `${format === 'raw' ? 'json' : 'ndjson'}${gzip ? '.gz' : ''}`;
}

/**
 * The stored bytes' media type. A gzipped object keeps the type of what it contains and gets no
 * Content-Encoding: with `Content-Encoding: gzip`, HTTP clients and browsers would decompress it
 * transparently, so a downloaded `.ndjson.gz` would hold uncompressed bytes whose sha256 no
 * longer matches the manifest. The `.gz` extension and the `gzip` metadata say it is compressed,
 * which is also what Athena and Spark go by.
 */
export function contentTypeFor(format: OutputFormat): string {
  return format === 'raw' ? 'application/json' : 'application/x-ndjson';
}

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
function runStamp(startTime: string, executionName: string): { partition: string; run: string } {
  const start = new Date(startTime);
  if (Number.isNaN(start.getTime())) {
    throw new ExportConfigError(`Invalid workflow state: state.execution.startTime must be an ISO 8601 time`);
  }
  const date = `${pad(start.getUTCFullYear(), 4)}-${pad(start.getUTCMonth() + 1)}-${pad(start.getUTCDate())}`;
  const time = `${pad(start.getUTCHours())}${pad(start.getUTCMinutes())}${pad(start.getUTCSeconds())}Z`;
  return { partition: `dt=${date}`, run: `${time}_${safeKeySegment(executionName)}` };
}

export function objectKey(input: ObjectKeyInput): string {
  const { partition, run } = runStamp(input.startTime, input.executionName);
  return `${input.prefix}${input.exportName}/${partition}/${run}.${extensionFor(input.format, input.gzip)}`;
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
  return `${folder}${exportName}.${extensionFor(format, gzip)}`;
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
  const replaced = key.replace(/\.(json|ndjson)(\.gz)?$/, '.manifest.json');
  const manifest = replaced === key ? `${key}.manifest.json` : replaced;
  const partition = manifest.lastIndexOf('/dt=');
  return partition < 0 ? manifest : `${manifest.slice(0, partition)}/_manifests${manifest.slice(partition)}`;
}

export function latestKeyFor(prefix: string, exportName: string): string {
  return `${prefix}${exportName}/latest.json`;
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
  };
}

/** A traffic export's query in its object metadata: the range, decisions and result cap. */
function trafficMetadata(traffic: TrafficRequest): Record<string, string> {
  return {
    kind: 'traffic',
    'start-date': traffic.startDate,
    'end-date': traffic.endDate,
    ...(traffic.since === undefined ? {} : { since: traffic.since }),
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
  /** Present for traffic exports only (collections leave it out). */
  readonly kind?: 'traffic';
  /** The resolved Explorer query of a traffic export: absolute range, decisions, filters, cap. */
  readonly traffic?: TrafficRequest;
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
  };
}
