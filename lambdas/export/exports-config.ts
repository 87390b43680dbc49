import { createHash } from 'node:crypto';
import type { GetObjectCommandOutput } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { ExportConfigError } from '../contracts/errors';
import {
  type ExportInput,
  exportNameSchema,
  type SnapshotMember,
  snapshotMemberSchema,
} from '../contracts/input';
import { BUCKET_NAME } from '../contracts/patterns';
import type { Env } from './env';
import { describeIssues } from './input';

/*
 * The configured exports and snapshots: one JSON object in S3 that the stack writes at deploy
 * time (lib/exports-config.ts), named by EXPORTS_CONFIG_BUCKET and EXPORTS_CONFIG_KEY, with its
 * sha256 in EXPORTS_CONFIG_SHA256. It is read once per container and kept by its hash; an object
 * whose bytes do not hash to the deployed value is never used, so neither a change made after
 * the deployment nor a stale copy can steer an export.
 */

/** The folder below the prefix that holds the configuration objects (no export name starts with `_`). */
export const EXPORTS_CONFIG_FOLDER = '_pce-export';

/** A configuration object is a few hundred bytes per export; anything far larger is not one. */
const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

const documentSchema = z.object({
  /** Export entries are validated when an execution uses them, as execution input is. */
  exports: z.record(exportNameSchema, z.record(z.string(), z.unknown())),
  snapshots: z.record(exportNameSchema, z.array(snapshotMemberSchema)),
});

export interface ConfiguredExports {
  readonly exports: Readonly<Record<string, ExportInput>>;
  readonly snapshots: Readonly<Record<string, readonly SnapshotMember[]>>;
}

export interface ExportsConfigLocation {
  readonly bucket: string;
  readonly key: string;
  readonly sha256: string;
}

/** The object's location, or undefined when the deployment configures no exports at all. */
export function readExportsConfigLocation(env: Env = process.env): ExportsConfigLocation | undefined {
  const bucket = env.EXPORTS_CONFIG_BUCKET?.trim();
  const key = env.EXPORTS_CONFIG_KEY?.trim();
  const sha256 = env.EXPORTS_CONFIG_SHA256?.trim();
  if (!bucket && !key && !sha256) return undefined;
  const missing = [
    ['EXPORTS_CONFIG_BUCKET', bucket],
    ['EXPORTS_CONFIG_KEY', key],
    ['EXPORTS_CONFIG_SHA256', sha256],
  ]
    .filter(([, value]) => !value)
    .map(([name]) => name);
  if (missing.length > 0) {
    throw new ExportConfigError(
      `Environment variable ${missing.join(' and ')} is not set (the configured exports object needs bucket, key and sha256)`,
    );
  }
  if (!BUCKET_NAME.test(bucket as string))
    throw new ExportConfigError(
      `Environment variable EXPORTS_CONFIG_BUCKET is not a valid S3 bucket name: "${bucket}"`,
    );
  if (!/^[0-9a-f]{64}$/.test(sha256 as string))
    throw new ExportConfigError(
      'Environment variable EXPORTS_CONFIG_SHA256 must be a sha256 in hex (64 characters)',
    );
  return { bucket: bucket as string, key: key as string, sha256: sha256 as string };
}

/** Reads one object: the seam between this module and the S3 client. */
export type GetObject = (bucket: string, key: string) => Promise<Pick<GetObjectCommandOutput, 'Body'>>;

/** S3 errors that mean "the deployment is broken", not "try again". */
const CONFIGURATION_FAILURES: ReadonlySet<string> = new Set([
  'NoSuchKey',
  'NoSuchBucket',
  'AccessDenied',
  'NotFound',
]);

const cache = new Map<string, ConfiguredExports>();

/**
 * The configured exports and snapshots (none without a location), from the container's cache
 * when this hash was read before. Throws ExportConfigError when the object is missing, cannot be
 * read for lack of permission, does not match its hash or is malformed; S3's transient failures
 * (throttling, 5xx) pass through as the SDK's own errors, so the state machine retries them.
 */
export async function loadConfiguredExports(
  location: ExportsConfigLocation | undefined,
  getObject: GetObject,
): Promise<ConfiguredExports> {
  if (location === undefined) return { exports: {}, snapshots: {} };
  const { bucket, key, sha256 } = location;
  const cached = cache.get(sha256);
  if (cached) return cached;
  const uri = `s3://${bucket}/${key}`;
  let bytes: Buffer;
  try {
    const object = await getObject(bucket, key);
    bytes = await readBounded(object.Body, uri);
  } catch (error) {
    const name = error instanceof Error ? error.name : undefined;
    if (name !== undefined && CONFIGURATION_FAILURES.has(name)) {
      throw new ExportConfigError(
        `The configured exports object ${uri} cannot be read (${name}); deploy the stack again`,
        { cause: error },
      );
    }
    throw error;
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== sha256) {
    throw new ExportConfigError(
      `The configured exports object ${uri} does not hash to the sha256 the functions were deployed with (${sha256.slice(0, 12)}…, found ${actual.slice(0, 12)}…): it was changed after the deployment and is not used; deploy the stack again`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ExportConfigError(`The configured exports object ${uri} is not valid JSON`);
  }
  const parsed = documentSchema.safeParse(value);
  if (!parsed.success) {
    throw new ExportConfigError(
      `The configured exports object ${uri} is malformed: ${describeIssues(parsed.error, 'configuration')}`,
    );
  }
  const result: ConfiguredExports = {
    exports: parsed.data.exports as Record<string, ExportInput>,
    snapshots: parsed.data.snapshots as Record<string, SnapshotMember[]>,
  };
  cache.set(sha256, result);
  return result;
}

async function readBounded(body: GetObjectCommandOutput['Body'], uri: string): Promise<Buffer> {
  if (body === undefined) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_CONFIG_BYTES)
      throw new ExportConfigError(
        `The configured exports object ${uri} is larger than ${MAX_CONFIG_BYTES} bytes`,
      );
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}
