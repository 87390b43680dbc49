import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import type { ChangesRequest } from '../../contracts/changes';
import type { ExportOutput } from '../../contracts/output';
import type { StorageSettings } from '../env';
import { changesKeyFor, changesStateKey, digestKeyFor, runIdOf } from '../layout';
import type { ExportLogger } from '../logger';
import { putJson, storage } from '../storage';
import { digestLine, keyOf, parseDigest } from './digest';
import { GzipLineUpload } from './line-upload';
import { readStoredObjects } from './read-objects';
import type { ChangeRow } from './rows';
import { ExternalSorter } from './sort';

/*
 * The change history of one run (PRODUCT.md 3.4): the stored object is read back and digested
 * (digest.ts), the digests are sorted by href through /tmp (sort.ts) and merged with the
 * previous run's digest, which was stored sorted in S3. One pass writes both the changes
 * (`{export}/_changes/dt=…/{run}.ndjson.gz`, one row per href added, removed or changed) and
 * this run's digest (`{export}/_state/digests/dt=…/{run}.digest.ndjson.gz`); the pointer
 * `{export}/_state/changes.json` moves to it last, so the next run compares with this one only
 * once everything is written. The first run has nothing to compare with: it writes its digest
 * and no changes.
 */

/** Where the change history of an export stands: the run its next run is compared with. */
interface ChangesState {
  readonly runId: string;
  readonly key: string;
  readonly digestKey: string;
  readonly objects: number;
  readonly completedAt: string;
}

/** What an export's output says of its change history. */
export interface ChangesSummary {
  readonly fields: string[];
  /** The changes object; absent on the first run, which has nothing to compare with. */
  readonly key?: string;
  readonly added: number;
  readonly removed: number;
  readonly changed: number;
  /** The run compared with (`{HHmmss}Z_{execution}`), absent on the first run. */
  readonly previousRun?: string;
  readonly digestKey: string;
}

export interface ChangeHistoryDeps {
  readonly s3: S3Client;
  readonly storage: Pick<StorageSettings, 'bucket' | 'prefix'>;
  readonly logger: ExportLogger;
  /** Where the sort spills. @default the system's temporary directory (/tmp in Lambda) */
  readonly tmpDir?: string;
  /** Characters of digest lines sorted in memory at once. @default 16 Mi */
  readonly sortBatchChars?: number;
  readonly now?: () => Date;
}

export async function writeChangeHistory(
  output: ExportOutput,
  request: ChangesRequest,
  deps: ChangeHistoryDeps,
): Promise<ChangesSummary> {
  const { s3, logger } = deps;
  const { bucket, prefix } = deps.storage;
  const stateKey = changesStateKey(prefix, output.exportName);
  const previous = await readState(s3, bucket, stateKey);
  const watched = new Set(request.fields);
  const runId = runIdOf(output.key);

  const sorter = new ExternalSorter(deps.tmpDir ?? tmpdir(), deps.sortBatchChars);
  const digestKey = digestKeyFor(output.key);
  const changesKey = changesKeyFor(output.key);
  const digest = new GzipLineUpload(s3, bucket, digestKey, 'application/x-ndjson');
  const changes = previous ? new GzipLineUpload(s3, bucket, changesKey, 'application/x-ndjson') : undefined;
  const counts = { added: 0, removed: 0, changed: 0, objects: 0, withoutHref: 0, repeated: 0 };
  try {
    for await (const object of readStoredObjects(s3, output)) {
      const line = digestLine(object, watched);
      if (line === undefined) counts.withoutHref++;
      else await sorter.add(line);
    }
    const before = previous ? digestLines(s3, bucket, previous.digestKey) : emptyLines();
    const row = (change: ChangeRow['change'], href: string, fields: string[], values: ChangeRow['values']) =>
      JSON.stringify({
        href,
        change,
        changed_fields: fields,
        values,
        previous_run: previous?.runId ?? null,
        current_run: runId,
        previous_key: previous?.key ?? null,
        current_key: output.key,
      });
    let last: string | undefined;
    const merged = mergeByKey(before, sorter.sorted());
    for await (const [old, now] of merged) {
      if (now !== undefined) {
        if (keyOf(now) === last) {
          counts.repeated++;
          continue;
        }
        last = keyOf(now);
        counts.objects++;
        await digest.write(now);
      }
      if (!changes) continue;
      const a = old === undefined ? undefined : parseDigest(old);
      const b = now === undefined ? undefined : parseDigest(now);
      const href = JSON.parse((a ?? b)?.key ?? '""') as string;
      if (a === undefined && b !== undefined) {
        counts.added++;
        await changes.write(row('added', href, [], valuesOf(undefined, b.v, watched)));
      } else if (b === undefined && a !== undefined) {
        counts.removed++;
        await changes.write(row('removed', href, [], valuesOf(a.v, undefined, watched)));
      } else if (a !== undefined && b !== undefined) {
        const fields = [...new Set([...Object.keys(a.f), ...Object.keys(b.f)])]
          .filter((field) => a.f[field] !== b.f[field])
          .sort();
        if (fields.length === 0) continue;
        counts.changed++;
        const changedWatched = new Set(fields.filter((field) => watched.has(field)));
        await changes.write(row('changed', href, fields, valuesOf(a.v, b.v, changedWatched)));
      }
    }
    await digest.end();
    await changes?.end();
  } catch (error) {
    await Promise.all([digest.abort(), changes?.abort()]);
    throw error;
  } finally {
    await sorter.close();
  }

  const state: ChangesState = {
    runId,
    key: output.key,
    digestKey,
    objects: counts.objects,
    completedAt: (deps.now ?? (() => new Date()))().toISOString(),
  };
  await putJson(s3, bucket, stateKey, state);
  logger.info('Wrote the change history', {
    previousRun: previous?.runId,
    ...counts,
    changesKey: changes ? changesKey : undefined,
    sortRuns: sorter.runCount,
  });
  return {
    fields: [...request.fields],
    ...(changes ? { key: changesKey, previousRun: previous?.runId } : {}),
    added: counts.added,
    removed: counts.removed,
    changed: counts.changed,
    digestKey,
  };
}

/** The watched fields' values before and after, as JSON text (null where absent). */
function valuesOf(
  before: Readonly<Record<string, string>> | undefined,
  after: Readonly<Record<string, string>> | undefined,
  fields: ReadonlySet<string>,
): ChangeRow['values'] {
  const values: Record<string, { before: string | null; after: string | null }> = {};
  for (const field of fields) {
    const was = before?.[field] ?? null;
    const is = after?.[field] ?? null;
    if (was !== null || is !== null) values[field] = { before: was, after: is };
  }
  return values;
}

/** Pairs two key-sorted line streams by key: [old, new], either undefined where one side has none. */
async function* mergeByKey(
  left: AsyncIterable<string>,
  right: AsyncIterable<string>,
): AsyncGenerator<[string | undefined, string | undefined]> {
  const l = left[Symbol.asyncIterator]();
  const r = right[Symbol.asyncIterator]();
  let a = await l.next();
  let b = await r.next();
  while (!a.done || !b.done) {
    if (b.done || (!a.done && keyOf(a.value) < keyOf(b.value))) {
      yield [a.value as string, undefined];
      a = await l.next();
    } else if (a.done || keyOf(b.value) < keyOf(a.value)) {
      yield [undefined, b.value];
      b = await r.next();
    } else {
      const key = keyOf(b.value);
      yield [a.value, b.value];
      b = await r.next();
      // A repeated href on the new side pairs with nothing more on the old side.
      while (!b.done && keyOf(b.value) === key) {
        yield [undefined, b.value];
        b = await r.next();
      }
      a = await l.next();
    }
  }
}

async function* emptyLines(): AsyncGenerator<string> {}

async function* digestLines(s3: S3Client, bucket: string, key: string): AsyncGenerator<string> {
  const response = await storage(bucket, key, 'reading', () =>
    s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })),
  );
  const input = (response.Body as Readable).pipe(createGunzip());
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    if (line !== '') yield line;
  }
}

async function readState(s3: S3Client, bucket: string, key: string): Promise<ChangesState | undefined> {
  try {
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const text = await (response.Body as { transformToString(): Promise<string> }).transformToString();
    return JSON.parse(text) as ChangesState;
  } catch (error) {
    if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
    return storage(bucket, key, 'reading', () => Promise.reject(error));
  }
}
