import { Duration } from 'aws-cdk-lib';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import {
  type IChainable,
  JitterType,
  JsonPath,
  type State,
  TaskInput,
  Timeout,
} from 'aws-cdk-lib/aws-stepfunctions';
import { EventBridgePutEvents } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';

/*
 * The events the workflow puts on EventBridge, for downstream automation. All have
 * `source: "pce-export"`:
 *   "Export Succeeded"    detail = the execution output (bucket, key, uri, sha256, ...)
 *   "Snapshot Succeeded"  detail = the snapshot's execution output (folder, manifestKey, objects)
 *   "Export Failed"       detail = {error, cause, original: {error, cause?}, execution: {name, id,
 *                         startTime}, input} (a snapshot that fails too: its input is {"snapshot": …});
 *                         `original` is the error as it was caught, before it was named: for
 *                         ExportInternalError, e.g. Sandbox.Timedout and the function's message
 * Step Functions appends the execution and state machine ARNs to each event's `resources`.
 */

const EVENT_SOURCE = 'pce-export';

/** The longest one PutEvents attempt may take before Step Functions gives up on it (States.Timeout). */
export const NOTIFY_TIMEOUT_SECONDS = 60;

/** Retries of one notification after its first attempt. */
export const NOTIFY_RETRIES = 3;

export const DETAIL_TYPES = {
  exportSucceeded: 'Export Succeeded',
  snapshotSucceeded: 'Snapshot Succeeded',
  exportFailed: 'Export Failed',
} as const;

/** Identifies the execution in a failure event. */
const EXECUTION = {
  name: JsonPath.stringAt('$$.Execution.Name'),
  id: JsonPath.stringAt('$$.Execution.Id'),
  startTime: JsonPath.stringAt('$$.Execution.StartTime'),
};

/**
 * Detail of a failure event, from the described failure `{error, cause, original}` in the
 * state: the error and the human cause the Fail state will carry, the error as it was caught,
 * which execution failed, and its input (it names the export: `input.exportName`, `input.path`).
 */
export function failureDetail(): TaskInput {
  return TaskInput.fromObject({
    error: JsonPath.stringAt('$.error'),
    cause: JsonPath.stringAt('$.cause'),
    original: JsonPath.objectAt('$.original'),
    execution: EXECUTION,
    input: JsonPath.objectAt('$$.Execution.Input'),
  });
}

export interface NotifyProps {
  readonly eventBus: IEventBus;
  readonly detailType: string;
  readonly detail: TaskInput;
  /** The state after the notification, whether the event went out or not. */
  readonly next: IChainable & State;
}

/**
 * A PutEvents task (JSONPath) that passes its input through unchanged to `next`. Sending is
 * retried; an event that still cannot be sent does not change the execution's outcome (the
 * export succeeded or failed regardless), so the error is caught and the run carries on to
 * `next`, where the execution history shows it.
 */
export function notifyTask(scope: Construct, id: string, props: NotifyProps): EventBridgePutEvents {
  const task = EventBridgePutEvents.jsonPath(scope, id, {
    entries: [
      { eventBus: props.eventBus, source: EVENT_SOURCE, detailType: props.detailType, detail: props.detail },
    ],
    resultPath: JsonPath.DISCARD,
    taskTimeout: Timeout.duration(Duration.seconds(NOTIFY_TIMEOUT_SECONDS)),
  });
  task.addRetry({
    errors: ['States.ALL'],
    interval: Duration.seconds(1),
    backoffRate: 2,
    maxAttempts: NOTIFY_RETRIES,
    jitterStrategy: JitterType.FULL,
  });
  task.addCatch(props.next, { errors: ['States.ALL'], resultPath: JsonPath.DISCARD });
  task.next(props.next);
  return task;
}
