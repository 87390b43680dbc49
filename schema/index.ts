/**
 * TypeScript types of the pce-export execution input and output, for callers that start the
 * workflow (StartExecution, a parent state machine, a Lambda) and read its result. They are
 * derived from the zod schemas the handlers validate with (`lambdas/contracts/`), as are
 * `execution-input.schema.json` and `execution-output.schema.json` beside this file. Types only:
 * importing this module loads nothing.
 */

import type { z } from 'zod';
import type {
  executionInputSchema,
  exportInputSchema,
  OutputFormat as Format,
  snapshotInputSchema,
} from '../lambdas/contracts/input';
import type {
  ExportOutput as Export,
  SnapshotOutput as Snapshot,
  SnapshotObject as SnapshotMemberObject,
} from '../lambdas/contracts/output';
import type { trafficInputSchema } from '../lambdas/contracts/traffic';
import type { ExportErrorName } from '../lambdas/export/errors';

/** Output format: `raw` is the PCE's JSON array byte for byte, `ndjson` one object per line. */
export type OutputFormat = Format;

/** The Explorer query of a traffic export. */
export type TrafficExecutionQuery = z.input<typeof trafficInputSchema>;

/** Input of an execution that exports one collection or one traffic query. */
export type ExportExecutionInput = z.input<typeof exportInputSchema>;

/**
 * Input of an execution that exports several collections into one folder with one manifest:
 * `{"snapshot": {"name": "policy-model", "exports": ["labels", "workloads", …]}}`.
 */
export type SnapshotExecutionInput = z.input<typeof snapshotInputSchema>;

/** Every input an execution accepts. */
export type ExecutionInput = z.input<typeof executionInputSchema>;

/** Output of a successful single-export execution (`z.output` of its schema, fields named). */
export type ExportOutput = Export;

/** Output of a successful snapshot execution. */
export type SnapshotOutput = Snapshot;

/** One object of a snapshot: an export's output without a manifest of its own. */
export type SnapshotObject = SnapshotMemberObject;

/** Every output a successful execution returns: tell them apart by `snapshotName`. */
export type ExecutionOutput = ExportOutput | SnapshotOutput;

/** The `Error` of a failed execution (its `Cause` is a human sentence). */
export type ExecutionErrorName = ExportErrorName;
