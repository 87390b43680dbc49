import type { TrafficRequest } from '../../contracts/traffic';
import type { TrafficOutput, TrafficRun, WindowResult } from '../../contracts/traffic-run';
import { TOOL_NAME, TOOL_VERSION } from '../../version';
import { contentTypeOf } from '../formats';
import { s3Uri } from '../layout';

/*
 * A traffic run's manifest: one document listing every window stored, with its range, its
 * dimensions, the counts the PCE reported, what was kept of the rows, and its object (key,
 * bytes, sha256). The execution output is a summary of it, small whatever the number of windows.
 */

interface ManifestWindow {
  readonly id: number;
  readonly start: string;
  readonly end: string;
  readonly last: boolean;
  readonly decision?: string;
  readonly protocol?: string;
  readonly ports?: readonly [number, number];
  readonly key: string;
  readonly bytes: number;
  readonly sha256: string;
  /** Flows stored in the object. */
  readonly objectCount: number;
  readonly flowsCount?: number;
  readonly matchesCount?: number;
  readonly rows?: WindowResult['rows'];
  /** A partial window: flows matched and not returned. */
  readonly partial?: { readonly missing?: number };
  readonly jobHref?: string;
}

export interface TrafficManifest {
  readonly exportName: string;
  readonly kind: 'traffic';
  readonly bucket: string;
  readonly prefix: string;
  readonly uri: string;
  readonly format: string;
  readonly gzip: boolean;
  readonly contentType: string;
  readonly org: number;
  readonly path: string;
  readonly executionName: string;
  readonly requestedAt: string;
  readonly completedAt: string;
  readonly tool: string;
  readonly traffic: TrafficRequest;
  readonly range: TrafficRun['range'];
  readonly incremental?: TrafficRun['incremental'] & {
    readonly previousEnd?: string;
    /** Flows dropped because the previous run stored them. */
    readonly overlapDropped: number;
  };
  readonly complete: boolean;
  readonly missingFlows?: number;
  readonly objectCount: number;
  readonly bytes: number;
  readonly queries: number;
  readonly rounds: number;
  readonly windows: readonly ManifestWindow[];
}

export function buildTrafficManifest(input: {
  readonly run: TrafficRun;
  readonly bucket: string;
  readonly orgId: number;
  readonly stored: readonly WindowResult[];
  readonly queries: number;
  readonly rounds: number;
  readonly completedAt: string;
}): TrafficManifest {
  const { run, stored } = input;
  const windows = [...stored]
    .sort((a, b) => a.window.id - b.window.id)
    .map((result): ManifestWindow => {
      const { window } = result;
      return {
        id: window.id,
        start: window.start,
        end: window.end,
        last: window.last,
        ...(window.decision === undefined ? {} : { decision: window.decision }),
        ...(window.protocol === undefined ? {} : { protocol: window.protocol }),
        ...(window.ports === undefined ? {} : { ports: window.ports }),
        key: result.key ?? '',
        bytes: result.bytes ?? 0,
        sha256: result.sha256 ?? '',
        objectCount: result.objectCount ?? 0,
        ...(result.flowsCount === undefined ? {} : { flowsCount: result.flowsCount }),
        ...(result.matchesCount === undefined ? {} : { matchesCount: result.matchesCount }),
        ...(result.rows === undefined ? {} : { rows: result.rows }),
        ...(window.partial === true
          ? { partial: { ...(result.missing === undefined ? {} : { missing: result.missing }) } }
          : {}),
        ...(result.jobHref === undefined ? {} : { jobHref: result.jobHref }),
      };
    });
  const partial = stored.filter((result) => result.window.partial === true);
  const missingFlows = partial.reduce((sum, result) => sum + (result.missing ?? 0), 0);
  const sum = (pick: (w: ManifestWindow) => number) => windows.reduce((total, w) => total + pick(w), 0);
  const traffic = run.export.traffic as TrafficRequest;
  return {
    exportName: run.export.name,
    kind: 'traffic',
    bucket: input.bucket,
    prefix: run.folder,
    uri: s3Uri(input.bucket, run.folder),
    format: run.export.format,
    gzip: run.export.gzip,
    contentType: contentTypeOf(run.export.format),
    org: input.orgId,
    path: run.export.path,
    executionName: run.execution.name,
    requestedAt: run.requestedAt,
    completedAt: input.completedAt,
    tool: `${TOOL_NAME}/${TOOL_VERSION}`,
    traffic,
    range: run.range,
    ...(run.incremental === undefined
      ? {}
      : {
          incremental: {
            ...run.incremental,
            ...(run.previous === undefined ? {} : { previousEnd: run.previous.end }),
            overlapDropped: sum((w) => w.rows?.overlap ?? 0),
          },
        }),
    complete: partial.length === 0,
    ...(partial.length === 0 ? {} : { missingFlows }),
    objectCount: sum((w) => w.objectCount),
    bytes: sum((w) => w.bytes),
    queries: input.queries,
    rounds: input.rounds,
    windows,
  };
}

/** The execution output: the manifest without its windows. */
export function trafficOutput(manifest: TrafficManifest, manifestKey: string): TrafficOutput {
  return {
    exportName: manifest.exportName,
    kind: 'traffic',
    bucket: manifest.bucket,
    prefix: manifest.prefix,
    uri: manifest.uri,
    manifestKey,
    format: manifest.format as TrafficOutput['format'],
    gzip: manifest.gzip,
    bytes: manifest.bytes,
    objectCount: manifest.objectCount,
    windows: manifest.windows.length,
    queries: manifest.queries,
    complete: manifest.complete,
    ...(manifest.missingFlows === undefined ? {} : { missingFlows: manifest.missingFlows }),
    ...(manifest.incremental?.skipped === undefined ? {} : { skipped: manifest.incremental.skipped }),
    startDate: manifest.range.start,
    endDate: manifest.range.end,
    requestedAt: manifest.requestedAt,
    completedAt: manifest.completedAt,
  };
}
