import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { ExportOutput, SnapshotOutput } from '../lambdas/contracts/output';
import type { TrafficOutput } from '../lambdas/contracts/traffic-run';
import { EVENTS_KEYS_FOLDER, eventsKeysKey } from '../lambdas/export/events-window';
import { changesStateKey, currentRunKey, latestKeyFor, snapshotLatestKey } from '../lambdas/export/layout';
import { WATERMARK_FILE, watermarkKey } from '../lambdas/export/watermark';

/** Where `--out` points: a local directory (through the embedded S3) or an S3 location. */
export type OutTarget =
  | { readonly kind: 'dir'; readonly dir: string }
  | { readonly kind: 's3'; readonly bucket: string; readonly prefix: string };

/**
 * The objects a run leaves: the export itself, its manifest, the export's latest.json and
 * `_current/run.json`, with a change history the changes, the run's digest and the state
 * that points the next run at it, and for an incremental events run its watermark and overlap keys.
 */
export function keysOf(output: ExportOutput, prefix: string, executionName: string): string[] {
  const changes = output.changes;
  return [
    output.key,
    output.manifestKey,
    latestKeyFor(prefix, output.exportName),
    currentRunKey(prefix, output.exportName),
    ...(changes?.key === undefined ? [] : [changes.key]),
    ...(changes?.digestKey === undefined
      ? []
      : [changes.digestKey, changesStateKey(prefix, output.exportName)]),
    ...(output.incremental === undefined
      ? []
      : [eventsKeysKey(prefix, output.exportName, executionName), watermarkKey(prefix, output.exportName)]),
  ];
}

/**
 * Puts the state a directory holds from earlier runs into the embedded S3, so that a run into the
 * same directory continues from them: the change-history state (`{export}/_state/…`), and an
 * incremental events export's overlap keys (`{export}/_incremental/…`) with its watermark.
 */
export async function seedStateFromDirectory(endpoint: string, bucket: string, dir: string): Promise<void> {
  const root = resolve(dir);
  const exports = await readdir(root, { withFileTypes: true }).catch(() => []);
  const s3 = new S3Client({ endpoint, forcePathStyle: true });
  try {
    for (const entry of exports) {
      if (!entry.isDirectory()) continue;
      const state = join(root, entry.name, '_state');
      const keys = join(root, entry.name, EVENTS_KEYS_FOLDER);
      const files = [
        ...(await readdir(state, { recursive: true, withFileTypes: true }).catch(() => [])),
        ...(await readdir(keys, { recursive: true, withFileTypes: true }).catch(() => [])),
      ];
      // The watermark of a traffic export stays behind: its overlap keys are not in the directory.
      const watermark = (await readdir(join(root, entry.name), { withFileTypes: true })).filter(
        (file) => file.name === WATERMARK_FILE && files.some((f) => f.parentPath === keys),
      );
      for (const file of [...files, ...watermark]) {
        if (!file.isFile()) continue;
        const path = join(file.parentPath, file.name);
        const key = relative(root, path).split(sep).join('/');
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: await readFile(path) }));
      }
    }
  } finally {
    s3.destroy();
  }
}

/** The objects a snapshot run leaves: every object of its folder, the manifest and its latest.json. */
export function snapshotKeysOf(output: SnapshotOutput, prefix: string): string[] {
  return [
    ...output.objects.map((object) => object.key),
    output.manifestKey,
    snapshotLatestKey(prefix, output.snapshotName),
  ];
}

/**
 * The objects a traffic run leaves: every window object its manifest lists, the manifest, the
 * export's latest.json and current-run pointer (and its watermark, for an incremental run).
 */
export async function trafficKeysOf(
  endpoint: string,
  bucket: string,
  output: TrafficOutput,
  prefix: string,
): Promise<string[]> {
  const s3 = new S3Client({ endpoint, forcePathStyle: true });
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: output.manifestKey }));
    const manifest = JSON.parse(
      await (object.Body as { transformToString(): Promise<string> }).transformToString(),
    ) as {
      windows?: { key?: unknown }[];
      incremental?: unknown;
    };
    const windows = (manifest.windows ?? [])
      .map((w) => w.key)
      .filter((key): key is string => typeof key === 'string');
    const watermark = manifest.incremental === undefined ? [] : [watermarkKey(prefix, output.exportName)];
    return [
      ...windows,
      output.manifestKey,
      latestKeyFor(prefix, output.exportName),
      currentRunKey(prefix, output.exportName),
      ...watermark,
    ];
  } finally {
    s3.destroy();
  }
}

/** Where the embedded S3 keeps an object's bytes (LocalS3.objectFile). */
type ObjectFile = (bucket: string, key: string) => string;

/**
 * Copies the run's objects out of the embedded S3 into `dir`, keeping their keys as paths. With
 * `objectFile`, each object's file is copied by the kernel (a datafile of hundreds of MB does not
 * go through S3's HTTP and this process a second time); an object with no such file is read
 * through S3.
 */
export async function copyToDirectory(
  endpoint: string,
  bucket: string,
  keys: readonly string[],
  dir: string,
  objectFile?: ObjectFile,
): Promise<Record<string, string>> {
  const s3 = new S3Client({ endpoint, forcePathStyle: true });
  const root = resolve(dir);
  const paths: Record<string, string> = {};
  try {
    for (const key of keys) {
      const target = resolve(join(root, key));
      if (!target.startsWith(root + sep)) throw new Error(`refusing to write ${key} outside ${root}`);
      await mkdir(dirname(target), { recursive: true });
      const copied =
        objectFile !== undefined &&
        (await copyFile(objectFile(bucket, key), target).then(
          () => true,
          (error: NodeJS.ErrnoException) => {
            if (error.code === 'ENOENT') return false;
            throw error;
          },
        ));
      if (!copied) {
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        await pipeline(object.Body as Readable, createWriteStream(target));
      }
      paths[key] = target;
    }
  } finally {
    s3.destroy();
  }
  return paths;
}
