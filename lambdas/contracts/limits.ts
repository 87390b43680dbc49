/*
 * Limits that AWS enforces on the services the workflow runs on. The construct, the handlers and
 * the local engine import them from here, so that a definition that would break one in AWS
 * breaks it locally too.
 */

/** Step Functions: the largest input or output of a state, and of an execution (UTF-8 bytes). */
export const MAX_STATE_PAYLOAD_BYTES = 256 * 1024;

/** Step Functions: events in one Standard execution's history before it fails. */
export const MAX_EXECUTION_HISTORY_EVENTS = 25_000;

/** Lambda: the longest a function may run. */
export const MAX_LAMBDA_TIMEOUT_SECONDS = 900;

/** Lambda: all environment variables of a function together (keys and values). */
export const MAX_LAMBDA_ENVIRONMENT_BYTES = 4 * 1024;

/** EventBridge: the largest PutEvents request (all entries together). */
export const MAX_PUT_EVENTS_BYTES = 256 * 1024;

/** EventBridge: entries in one PutEvents request. */
export const MAX_PUT_EVENTS_ENTRIES = 10;

/** Step Functions: the longest a Standard execution may run (one year), whatever TimeoutSeconds says. */
export const MAX_STANDARD_EXECUTION_SECONDS = 365 * 24 * 60 * 60;

/** Step Functions: a Task state without TimeoutSeconds waits this long (the ASL default). */
export const DEFAULT_TASK_TIMEOUT_SECONDS = 99_999_999;

/** Step Functions: child workflow executions a Distributed Map runs at the same time at most. */
export const MAX_DISTRIBUTED_MAP_CONCURRENCY = 10_000;

/** S3: a key is at most 1,024 bytes; the prefix leaves room for the export's own part of it. */
export const MAX_KEY_PREFIX_LENGTH = 512;

/** S3: user metadata is capped at 2 KB in all; the query is the only value that can grow. */
export const MAX_QUERY_METADATA_LENGTH = 1024;

/*
 * Limits the workflow sets itself, each to stay below one of AWS's or the PCE's.
 */

/** Longest a job may be waited for; keeps the poll loop far below the execution history limit. */
export const MAX_WAIT_SECONDS_LIMIT = 86_400;

/** How long Submit keeps trying a PCE that is unavailable, by default: a restart or upgrade takes minutes. */
export const DEFAULT_SUBMIT_RETRY_WINDOW_SECONDS = 600;

/** The longest Submit may be told to keep trying a PCE that is unavailable. */
export const MAX_SUBMIT_RETRY_WINDOW_SECONDS = 3600;

/** Downloads of one result that fail transiently before Fetch gives up, whatever the deadline. */
export const FETCH_MAX_FAILED_DOWNLOADS = 10;

/** The longest wait before a submit, poll or download is made again after transient PCE trouble. */
export const MAX_TROUBLE_WAIT_SECONDS = 300;

/** Members per snapshot: keeps the Map's result (one small output per member) far below 256 KB. */
export const MAX_SNAPSHOT_MEMBERS = 50;

/** PCE: the most rows one Explorer traffic query returns. */
export const MAX_TRAFFIC_RESULTS = 200_000;

/** Query parameters of one collection export. */
export const MAX_QUERY_PARAMETERS = 32;

/** Actors in one include or exclude list of a traffic filter. */
export const MAX_TRAFFIC_ACTORS = 64;

/** Actors in all of a traffic query's filters: keeps the query, which travels in state, small. */
export const MAX_TOTAL_TRAFFIC_ACTORS = 200;

/** The longest relative traffic range accepted; older flows are beyond any PCE's retention anyway. */
export const MAX_TRAFFIC_SINCE_SECONDS = 366 * 86_400;

/** PCE: the longest Explorer query name. */
export const MAX_TRAFFIC_QUERY_NAME_LENGTH = 255;
