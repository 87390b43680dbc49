/**
 * TypeScript types of the pce-export execution input and output, for callers that start the
 * workflow (StartExecution, a parent state machine, a Lambda) and read its result. They match
 * `execution-input.schema.json` and `execution-output.schema.json` beside this file; a unit test
 * keeps the three in step with the handlers. Types only: importing this module loads nothing.
 */

/** Output format: `raw` is the PCE's JSON array byte for byte, `ndjson` one object per line. */
export type OutputFormat = 'raw' | 'ndjson';

/** A traffic filter entry: a label, label group, workload or IP list href, an IP or a CIDR block. */
export type TrafficActor = string;

export interface TrafficFilter {
  /** Alternatives (OR); an entry that is a list matches when all its actors match (AND). */
  readonly include?: (TrafficActor | TrafficActor[])[];
  readonly exclude?: TrafficActor[];
}

/** The Explorer query of a traffic export. */
export interface TrafficExecutionQuery {
  /** A range relative to the execution's start: `24h`, `last 7d`, `90 minutes`. Default: `24h`. */
  readonly since?: string;
  /** Absolute start (ISO 8601); excludes `since`. */
  readonly start?: string;
  /** Absolute end (ISO 8601). Default: the execution's start. */
  readonly end?: string;
  /** Default: every decision. */
  readonly policyDecisions?: ('allowed' | 'potentially_blocked' | 'blocked' | 'unknown')[];
  readonly sources?: TrafficFilter;
  readonly destinations?: TrafficFilter;
  /** 1 to 200000. Default: 100000. */
  readonly maxResults?: number;
  /** Name shown in the PCE's Explorer. */
  readonly queryName?: string;
}

/** Input of an execution that exports one collection or one traffic query. */
export interface ExportExecutionInput {
  /**
   * Picks up the configured export of that name (its fields are the defaults) and names the S3
   * folder. Letters, digits, `_` and `-`, at most 64. Default: derived from `path`.
   */
  readonly exportName?: string;
  /** Default: `collection`. */
  readonly kind?: 'collection' | 'traffic';
  /** Org-relative collection path, e.g. `/workloads`. Required unless `exportName` is configured. */
  readonly path?: string;
  /** Collection filters, e.g. `{"managed": "true"}`; numbers and booleans are sent as text. */
  readonly query?: Readonly<Record<string, string | number | boolean>>;
  /** Default: `ndjson`. */
  readonly format?: OutputFormat;
  /** Default: `true`. */
  readonly gzip?: boolean;
  /** Give up on the PCE job after this many seconds (1 to 86400). Default: 3600. */
  readonly maxWaitSeconds?: number;
  /** The query of a traffic export (`kind: "traffic"`). */
  readonly traffic?: TrafficExecutionQuery;
}

/**
 * Input of an execution that exports several collections into one folder with one manifest:
 * `{"snapshot": {"name": "policy-model", "exports": ["labels", "workloads", …]}}`.
 */
export interface SnapshotExecutionInput {
  readonly snapshot: {
    /** Names the folder; a configured snapshot of that name supplies `exports`. */
    readonly name: string;
    /**
     * 1 to 50 members: names of configured exports, or export inputs. Each member needs its own
     * export name. Default: the configured snapshot's exports.
     */
    readonly exports?: (string | ExportExecutionInput)[];
  };
}

/** Every input an execution accepts. */
export type ExecutionInput = ExportExecutionInput | SnapshotExecutionInput;

/** Output of a successful single-export execution. */
export interface ExportOutput {
  readonly exportName: string;
  readonly bucket: string;
  /** `{prefix}{exportName}/dt=YYYY-MM-DD/{HHmmss}Z_{executionName}.{json|ndjson}[.gz]` */
  readonly key: string;
  /** `s3://{bucket}/{key}` */
  readonly uri: string;
  /** Stored bytes (after gzip). */
  readonly bytes: number;
  /** Hex SHA-256 of the stored bytes. */
  readonly sha256: string;
  readonly format: OutputFormat;
  readonly gzip: boolean;
  /** Objects in the collection. */
  readonly objectCount?: number;
  /** `/orgs/{org}/jobs/{id}` */
  readonly jobHref: string;
  readonly polls: number;
  /** ISO 8601, UTC. */
  readonly requestedAt: string;
  /** ISO 8601, UTC: when the object was complete. */
  readonly completedAt: string;
  /** Key of the run's manifest. */
  readonly manifestKey: string;
}

/** One object of a snapshot: an export's output without a manifest of its own. */
export type SnapshotObject = Omit<ExportOutput, 'manifestKey'>;

/** Output of a successful snapshot execution. */
export interface SnapshotOutput {
  readonly snapshotName: string;
  readonly bucket: string;
  /** Key of the folder: `{prefix}snapshots/{name}/dt=YYYY-MM-DD/{HHmmss}Z_{executionName}/`. */
  readonly prefix: string;
  /** `s3://{bucket}/{folder}` */
  readonly uri: string;
  /** `{folder}manifest.json`: lists every object; written once all are complete. */
  readonly manifestKey: string;
  /** All objects together. */
  readonly bytes: number;
  /** One per export, in the order requested. */
  readonly objects: readonly SnapshotObject[];
  /** ISO 8601, UTC. */
  readonly startedAt: string;
  /** ISO 8601, UTC. */
  readonly completedAt: string;
}

/** Every output a successful execution returns: tell them apart by `snapshotName`. */
export type ExecutionOutput = ExportOutput | SnapshotOutput;

/** The `Error` of a failed execution (its `Cause` is a human sentence). */
export type ExecutionErrorName =
  | 'PceAuthError'
  | 'PceRequestError'
  | 'PceRateLimited'
  | 'PceUnavailable'
  | 'PceProtocolError'
  | 'PceJobFailed'
  | 'PceJobTimeout'
  | 'ExportConfigError'
  | 'ExportStorageError';
