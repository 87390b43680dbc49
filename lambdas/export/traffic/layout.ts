import type { TrafficRun, WindowSpec } from '../../contracts/traffic-run';
import { extensionOf } from '../formats';
import { manifestKeyFor, type ObjectKeyInput, objectKey, runStamp } from '../layout';
import { trafficQueryName } from '../traffic-query';

/*
 * Where a traffic run's objects go:
 *
 *   {prefix}{export}/dt=D/{HHmmss}Z_{execution}/w0000.ndjson.gz    one object per window stored
 *   {prefix}{export}/_manifests/dt=D/{HHmmss}Z_{execution}.manifest.json   the run's manifest
 *   {prefix}{export}/latest.json, {prefix}{export}/watermark.json
 *   {prefix}{export}/_runs/dt=D/{HHmmss}Z_{execution}/             the run's working folder:
 *     windows/w0000.json                 what each window came to (its child execution writes it)
 *     windows/w0000.keys.json            an incremental run's keys of the window's last flows
 *     windows/w0000.submitted            a window's query was submitted (a retry looks for it)
 *     overlap-keys.json                  the keys the next incremental run drops
 *
 * The data folder sits in the run's `dt=` partition, where Athena reads it; the working folder
 * is outside every partition.
 */

export interface RunKeys {
  readonly folder: string;
  readonly work: string;
  readonly manifestKey: string;
}

export function runKeys(input: ObjectKeyInput): RunKeys {
  const { partition, run } = runStamp(input.startTime, input.executionName);
  const exportFolder = `${input.prefix}${input.exportName}/`;
  return {
    folder: `${exportFolder}${partition}/${run}/`,
    work: `${exportFolder}_runs/${partition}/${run}/`,
    manifestKey: manifestKeyFor(objectKey(input)),
  };
}

const name = (window: Pick<WindowSpec, 'id'>) => `w${String(window.id).padStart(4, '0')}`;

export function windowObjectKey(run: TrafficRun, window: Pick<WindowSpec, 'id'>): string {
  const { format, gzip } = run.export;
  return `${run.folder}${name(window)}.${extensionOf(format, gzip)}`;
}

export const windowResultsPrefix = (run: Pick<TrafficRun, 'work'>) => `${run.work}windows/`;

export function windowResultKey(run: Pick<TrafficRun, 'work'>, window: Pick<WindowSpec, 'id'>): string {
  return `${windowResultsPrefix(run)}${name(window)}.json`;
}

export function windowKeysKey(run: Pick<TrafficRun, 'work'>, window: Pick<WindowSpec, 'id'>): string {
  return `${windowResultsPrefix(run)}${name(window)}.keys.json`;
}

export function submittedMarkerKey(run: Pick<TrafficRun, 'work'>, window: Pick<WindowSpec, 'id'>): string {
  return `${windowResultsPrefix(run)}${name(window)}.submitted`;
}

export const overlapKeysKey = (run: Pick<TrafficRun, 'work'>) => `${run.work}overlap-keys.json`;

/** The window's query name: the export, the execution and the window, so that a retry can find it. */
export function windowQueryName(run: TrafficRun, window: Pick<WindowSpec, 'id'>): string {
  const given = run.export.traffic?.queryName;
  if (given !== undefined) return `${given.slice(0, 240)} ${name(window)}`;
  return trafficQueryName({
    exportName: run.export.name,
    executionName: run.execution.name,
    windowId: name(window),
  });
}
