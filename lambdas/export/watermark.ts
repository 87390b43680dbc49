import type { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { ExportConfigError } from '../contracts/errors';
import { isoTime } from '../contracts/time';
import { TOOL_NAME, TOOL_VERSION } from '../version';
import { putJson, readText } from './storage';

/*
 * Incremental exports of time-stamped records (traffic flows, audit events): each run starts
 * where the last successful run of the same export ended, less an overlap, so that a late or
 * failed run leaves no hole and records that reached the PCE late are picked up.
 *
 *   {prefix}{exportName}/watermark.json    where the last complete run ended, written after its
 *                                          manifest and latest.json
 *
 * The overlap is deduplicated with keys: a run records the keys (a digest and the record's time)
 * of what it stored from `end - overlap` on; the next run drops what the previous runs stored.
 * Nothing here knows what a record is: callers turn their records into keys.
 */

const watermarkSchema = z.object({
  exportName: z.string().min(1),
  /** The end of the range the last complete run covered (included). */
  end: isoTime,
  /** Its overlap keys, when it recorded any (an object of {@link OverlapKeys}). */
  keysKey: z.string().min(1).optional(),
  executionName: z.string().min(1),
  manifestKey: z.string().min(1),
  completedAt: isoTime,
  tool: z.string(),
});
export type Watermark = z.output<typeof watermarkSchema>;

/** How far back a run reaches. */
export interface IncrementalSettings {
  readonly overlapSeconds: number;
  /** The furthest back a run reaches after missed runs (older records are skipped, and said so). */
  readonly catchUpSeconds: number;
}

export interface IncrementalRange {
  readonly start: Date;
  readonly end: Date;
  /**
   * `first`: no earlier run, the configured range; `continued`: from the last run's end less the
   * overlap; `caught-up`: the last run ended longer ago than the catch-up limit allows.
   */
  readonly mode: 'first' | 'continued' | 'caught-up';
  /** The run it continues (`continued` only): its overlap keys are the duplicates to drop. */
  readonly previous?: Watermark;
  /** `caught-up`: the range no run covers. */
  readonly skipped?: { readonly from: string; readonly to: string };
  /** Keys are recorded from here on for the next run. */
  readonly tailFrom: Date;
}

/** What a run carries of its range to its download: the run it continues, and where its tail starts. */
export function dedupeOf(range: IncrementalRange): {
  previous?: { end: string; keysKey?: string };
  tailFrom: string;
} {
  return {
    ...(range.previous === undefined
      ? {}
      : {
          previous: {
            end: range.previous.end,
            ...(range.previous.keysKey === undefined ? {} : { keysKey: range.previous.keysKey }),
          },
        }),
    tailFrom: range.tailFrom.toISOString(),
  };
}

/** The watermark's name in its export's folder (IAM scopes the reads of it to this name). */
export const WATERMARK_FILE = 'watermark.json';

/** Where an export's watermark lives: beside its latest.json. */
export function watermarkKey(prefix: string, exportName: string): string {
  return `${prefix}${exportName}/${WATERMARK_FILE}`;
}

/** The next run's range, from the watermark (if any), the run's start and its configured range. */
export function nextRange(input: {
  readonly watermark?: Watermark;
  readonly now: Date;
  readonly configured: { readonly start: Date; readonly end: Date };
  readonly settings: IncrementalSettings;
}): IncrementalRange {
  const { watermark, now, configured, settings } = input;
  const overlapMs = settings.overlapSeconds * 1000;
  if (watermark === undefined) {
    return {
      start: configured.start,
      end: configured.end,
      mode: 'first',
      tailFrom: new Date(configured.end.getTime() - overlapMs),
    };
  }
  const previousEnd = Date.parse(watermark.end);
  // A run that starts before the last one ended (runs overlapping in time) covers the overlap only.
  const end = new Date(Math.max(now.getTime(), previousEnd));
  const from = previousEnd - overlapMs;
  const tailFrom = new Date(end.getTime() - overlapMs);
  const earliest = end.getTime() - settings.catchUpSeconds * 1000;
  if (from < earliest) {
    return {
      start: new Date(earliest),
      end,
      mode: 'caught-up',
      skipped: { from: watermark.end, to: new Date(earliest).toISOString() },
      tailFrom,
    };
  }
  return { start: new Date(from), end, mode: 'continued', previous: watermark, tailFrom };
}

/** The watermark of an export, or undefined before its first complete run. */
export async function readWatermark(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<Watermark | undefined> {
  const text = await readText(s3, bucket, key);
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ExportConfigError(`The watermark s3://${bucket}/${key} is not JSON: delete it to start afresh`);
  }
  const watermark = watermarkSchema.safeParse(parsed);
  if (!watermark.success) {
    throw new ExportConfigError(
      `The watermark s3://${bucket}/${key} is not one this version wrote: delete it to start afresh`,
    );
  }
  return watermark.data;
}

/** Records a complete run: the last write of the run, after its manifest and latest.json. */
export async function recordRun(
  s3: S3Client,
  bucket: string,
  key: string,
  watermark: Omit<Watermark, 'tool'>,
): Promise<Watermark> {
  const written = { ...watermark, tool: `${TOOL_NAME}/${TOOL_VERSION}` };
  await putJson(s3, bucket, key, written);
  return written;
}

/** A key: the record's time (epoch ms) and a digest of what identifies it. */
export type OverlapKey = readonly [time: number, digest: string];

/** The keys a run stored from `from` on. */
export interface OverlapKeys {
  readonly from: string;
  readonly keys: readonly OverlapKey[];
}

/** The keys the next run needs: this run's from `from` on, and the earlier ones still that recent. */
export function mergeOverlapKeys(from: Date, ...sets: readonly (readonly OverlapKey[])[]): OverlapKeys {
  const since = from.getTime();
  const seen = new Set<string>();
  const keys: OverlapKey[] = [];
  for (const set of sets) {
    for (const key of set) {
      if (key[0] < since || seen.has(key[1])) continue;
      seen.add(key[1]);
      keys.push(key);
    }
  }
  keys.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return { from: from.toISOString(), keys };
}

const overlapKeysSchema = z.object({
  from: isoTime,
  keys: z.array(z.tuple([z.number().int(), z.string().regex(/^[0-9a-f]{8,64}$/)])),
});

/** A run's overlap keys; undefined when the object is gone (the next run then keeps the overlap's records). */
export async function readOverlapKeys(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<OverlapKeys | undefined> {
  const text = await readText(s3, bucket, key);
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = overlapKeysSchema.safeParse(json);
  if (!parsed.success) {
    throw new ExportConfigError(`The overlap keys s3://${bucket}/${key} are not ones this version wrote`);
  }
  return parsed.data;
}
