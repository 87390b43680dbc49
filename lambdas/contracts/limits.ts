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
