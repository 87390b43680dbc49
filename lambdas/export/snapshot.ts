import type { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { ExportConfigError } from '../contracts/errors';
import {
  type ExportInput,
  exportNameSchema,
  type SnapshotMember,
  snapshotInputSchema,
} from '../contracts/input';
import { MAX_SNAPSHOT_MEMBERS } from '../contracts/limits';
import type { SnapshotObject, SnapshotOutput } from '../contracts/output';
import { exportOutputSchema } from '../contracts/output';
import type { ExecutionRef } from '../contracts/state';
import { executionSchema } from '../contracts/state';
import { TOOL_NAME, TOOL_VERSION } from '../version';
import type { StorageSettings } from './env';
import { describeIssues, resolveExportRequest } from './input';
import { s3Uri, snapshotFolderKey, snapshotLatestKey, snapshotManifestKey } from './layout';
import type { ExportLogger } from './logger';
import { putJson } from './storage';

/*
 * Snapshot mode: one execution exports several collections into one dated folder with one
 * manifest. The state machine runs
 *   PlanSnapshot (plan) → ExportSnapshot (Distributed Map: Submit → Wait → Poll → Fetch in a
 *   child execution per export)
 *   → WriteSnapshotManifest (complete)
 * and this module is the plan and complete steps. The manifest (and the snapshot's latest.json)
 * are written only after every member's object is complete; a failed member fails the
 * execution before this step runs, so a folder without manifest.json is an incomplete run.
 */

/** What PlanSnapshot puts in the state, for the Map and for WriteSnapshotManifest. */
export interface SnapshotPlan {
  readonly name: string;
  /** Key of the run's folder, ending in `/`. */
  readonly folder: string;
  readonly manifestKey: string;
  /** One execution input per export, in order. */
  readonly members: readonly ExportInput[];
}

export interface PlanEvent {
  readonly input: unknown;
  readonly execution: unknown;
}

export interface PlanDeps {
  readonly configuredExports: Readonly<Record<string, ExportInput>>;
  readonly configuredSnapshots: Readonly<Record<string, readonly SnapshotMember[]>>;
  readonly prefix: string;
}

/**
 * Validates a snapshot input and resolves its members: every member must be an export Submit
 * would accept, and no two may share a name (they would share a key). Throws ExportConfigError
 * naming the member, before any job is submitted.
 */
export function planSnapshot(event: PlanEvent, deps: PlanDeps): { snapshot: SnapshotPlan } {
  const execution = parseExecutionRef(event?.execution);
  const parsed = snapshotInputSchema.safeParse(event?.input);
  if (!parsed.success) throw new ExportConfigError(`Invalid input: ${describeIssues(parsed.error, 'input')}`);
  const { name, exports } = parsed.data.snapshot;
  const configured = deps.configuredSnapshots[name];
  const requested = exports ?? configured;
  if (requested === undefined) {
    const known = Object.keys(deps.configuredSnapshots);
    throw new ExportConfigError(
      `Invalid input: snapshot "${name}" is not configured${known.length ? ` (configured: ${known.join(', ')})` : ''} and input.snapshot.exports is missing`,
    );
  }
  if (requested.length === 0 || requested.length > MAX_SNAPSHOT_MEMBERS) {
    throw new ExportConfigError(
      `Invalid input: snapshot "${name}" must have 1 to ${MAX_SNAPSHOT_MEMBERS} exports, not ${requested.length}`,
    );
  }

  const now = new Date(execution.startTime);
  const seen = new Map<string, number>();
  const members = requested.map((member, index): ExportInput => {
    const field = `input.snapshot.exports[${index}]`;
    const input: ExportInput = typeof member === 'string' ? { exportName: member } : member;
    if (typeof member === 'string' && deps.configuredExports[member] === undefined) {
      throw new ExportConfigError(
        `Invalid input: ${field} names export "${member}", which is not configured${knownExports(deps)}`,
      );
    }
    let exportName: string;
    try {
      exportName = resolveExportRequest(input, deps.configuredExports, { now }).name;
    } catch (error) {
      if (!(error instanceof ExportConfigError)) throw error;
      throw new ExportConfigError(`Invalid input: ${field}: ${error.message}`, { cause: error });
    }
    const first = seen.get(exportName);
    if (first !== undefined) {
      throw new ExportConfigError(
        `Invalid input: ${field} is export "${exportName}" again (as input.snapshot.exports[${first}]); each export of a snapshot needs its own name`,
      );
    }
    seen.set(exportName, index);
    return input;
  });

  const folder = snapshotFolderKey({
    prefix: deps.prefix,
    snapshotName: name,
    executionName: execution.name,
    startTime: execution.startTime,
  });
  return { snapshot: { name, folder, manifestKey: snapshotManifestKey(folder), members } };
}

function knownExports(deps: PlanDeps): string {
  const known = Object.keys(deps.configuredExports);
  return known.length ? ` (configured: ${known.join(', ')})` : '';
}

export interface CompleteEvent {
  readonly snapshot: unknown;
  readonly results: unknown;
  readonly execution: unknown;
}

export interface CompleteDeps {
  readonly s3: S3Client;
  readonly storage: Pick<StorageSettings, 'bucket' | 'prefix'>;
  readonly orgId?: number;
  readonly logger: ExportLogger;
  readonly now?: () => Date;
}

const planSchema = z.object({
  name: exportNameSchema,
  folder: z.string().min(1).max(1024),
  manifestKey: z.string().min(1).max(1024),
  members: z.array(z.unknown()).min(1).max(MAX_SNAPSHOT_MEMBERS),
});

/**
 * Writes the snapshot's manifest, then `{prefix}snapshots/{name}/latest.json`, and returns the
 * execution output. Every result must be an object of this run's folder, one per member.
 */
export async function completeSnapshot(event: CompleteEvent, deps: CompleteDeps): Promise<SnapshotOutput> {
  const execution = parseExecutionRef(event?.execution);
  const plan = planSchema.safeParse(event?.snapshot);
  if (!plan.success)
    throw new ExportConfigError(`Invalid workflow state: ${describeIssues(plan.error, 'state.snapshot')}`);
  const { name, folder, manifestKey, members } = plan.data;
  const { bucket, prefix } = deps.storage;
  const expected = snapshotFolderKey({
    prefix,
    snapshotName: name,
    executionName: execution.name,
    startTime: execution.startTime,
  });
  if (folder !== expected || manifestKey !== snapshotManifestKey(expected)) {
    throw new ExportConfigError(
      `Invalid workflow state: state.snapshot.folder must be ${expected} for this execution, not ${folder}`,
    );
  }
  const results = z.array(exportOutputSchema).safeParse(event?.results);
  if (!results.success)
    throw new ExportConfigError(`Invalid workflow state: ${describeIssues(results.error, 'state.results')}`);
  if (results.data.length !== members.length) {
    throw new ExportConfigError(
      `Invalid workflow state: state.results has ${results.data.length} outputs for ${members.length} exports`,
    );
  }
  const objects: SnapshotObject[] = results.data.map((result, index) => {
    if (
      result.bucket !== bucket ||
      !result.key.startsWith(folder) ||
      result.key.slice(folder.length).includes('/')
    ) {
      throw new ExportConfigError(
        `Invalid workflow state: state.results[${index}] is s3://${result.bucket}/${result.key}, not an object of the snapshot folder s3://${bucket}/${folder}`,
      );
    }
    return {
      exportName: result.exportName,
      bucket: result.bucket,
      key: result.key,
      uri: s3Uri(result.bucket, result.key),
      bytes: result.bytes,
      sha256: result.sha256,
      format: result.format,
      gzip: result.gzip,
      ...(result.objectCount === undefined ? {} : { objectCount: result.objectCount }),
      jobHref: result.jobHref,
      polls: result.polls,
      requestedAt: result.requestedAt,
      completedAt: result.completedAt,
    };
  });
  const keys = new Set(objects.map((object) => object.key));
  if (keys.size !== objects.length) {
    throw new ExportConfigError('Invalid workflow state: two exports of the snapshot wrote the same key');
  }

  const completedAt = (deps.now ?? (() => new Date()))().toISOString();
  const output: SnapshotOutput = {
    snapshotName: name,
    bucket,
    prefix: folder,
    uri: s3Uri(bucket, folder),
    manifestKey,
    bytes: objects.reduce((sum, object) => sum + object.bytes, 0),
    objects,
    startedAt: new Date(execution.startTime).toISOString(),
    completedAt,
  };
  const manifest = {
    ...output,
    executionName: execution.name,
    ...(deps.orgId === undefined ? {} : { org: deps.orgId }),
    tool: `${TOOL_NAME}/${TOOL_VERSION}`,
  };
  await putJson(deps.s3, bucket, manifestKey, manifest);
  await putJson(deps.s3, bucket, snapshotLatestKey(prefix, name), manifest);
  deps.logger.info('Snapshot complete', {
    snapshot: name,
    manifestKey,
    objects: objects.length,
    bytes: output.bytes,
  });
  return output;
}

function parseExecutionRef(value: unknown): ExecutionRef {
  const parsed = executionSchema.safeParse(value);
  if (!parsed.success)
    throw new ExportConfigError(`Invalid event: ${describeIssues(parsed.error, 'execution')}`);
  return parsed.data;
}
