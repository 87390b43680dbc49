import { Duration } from 'aws-cdk-lib';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import {
  Choice,
  Condition,
  Fail,
  type IChainable,
  JitterType,
  JsonPath,
  Pass,
  TaskInput,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { WINDOW_MIN_WAIT_SECONDS } from '../lambdas/export/traffic/window-steps';
import { childExecutionMap, MAP_RUN_LABELS } from './child-executions';
import { RETRIES, TASK_TIMEOUT_MARGIN_SECONDS } from './workflow-timeout';

/*
 * The traffic run, the part of the definition a traffic export that runs on its own takes after
 * Submit (`lambdas/export/traffic/`):
 *
 *   PlanTraffic → TrafficRound (Distributed Map, one STANDARD child execution per window) →
 *   SplitTraffic → TrafficRoundStatus ─ more windows → TrafficRound
 *                                     ├ done → CompleteTraffic → (the export's success states)
 *                                     └ failure → AbortTraffic → (the export's failure states)
 *
 * A window's child execution: TrafficWindowSubmit → TrafficWindowStatus ─ waiting →
 * TrafficWindowWait → TrafficWindowPoll → TrafficWindowStatus; done → TrafficWindowFetch →
 * TrafficWindowEnded; ended (truncated, failed) → TrafficWindowEnded. A step's error is recorded
 * by TrafficWindowError (and the window's query deleted), so that a child always ends and the
 * parent learns why from the window's result in S3; the run fails once the round is over.
 *
 * Every state that can fail has a Catch of every error: in a child it records the error, in the
 * parent it ends in AbortTraffic, which deletes the window objects of the run and fails the
 * execution with the original error. The state stays small: the run, the round's windows (at
 * most MAX_TRAFFIC_QUERIES, each a few hundred bytes) and, from each child, two fields.
 */

/**
 * Windows a round runs at the same time. A window slot makes at most 80 requests a minute (its
 * submit, poll, download and delete fit in one WINDOW_MIN_WAIT_SECONDS of 3 s when the query is
 * done at its first poll; a slot waiting for its query polls 20 times a minute), so 4 slots stay
 * at or below 320 of the PCE's 500 requests a minute per API key, leaving 180 for other exports
 * and clients of the same key. At most 6: 480.
 */
export const DEFAULT_TRAFFIC_WINDOW_CONCURRENCY = 4;
export const MAX_TRAFFIC_WINDOW_CONCURRENCY = 6;
/** Requests one window slot makes in a minute at most (see above). */
export const WINDOW_SLOT_REQUESTS_PER_MINUTE = (60 / WINDOW_MIN_WAIT_SECONDS) * 4;

export interface TrafficFunctions {
  /** plan, split, complete and abort. */
  readonly run: NodejsFunction;
  /** A window's submit, poll and error steps. */
  readonly window: NodejsFunction;
  /** A window's download. */
  readonly fetch: NodejsFunction;
}

export interface TrafficRunProps {
  readonly functions: TrafficFunctions;
  readonly windowConcurrency: number;
  /** Where a complete run goes on: its output is the execution's. */
  readonly succeeded: IChainable;
  /** Where a failed run goes on, with `{Error, Cause}` as a Lambda error's. */
  readonly failed: IChainable;
}

/** Builds the traffic run in `scope`; the returned state is its entry (PlanTraffic). */
export function trafficRun(scope: Construct, props: TrafficRunProps): IChainable {
  const { functions } = props;
  const task: TaskFactory = (name, fn, payload, retries) => lambdaTask(scope, name, fn, payload, retries);
  const step = (name: string) => TaskInput.fromObject({ step: name, state: JsonPath.entirePayload });

  const abort = task('AbortTraffic', functions.run, step('abort'), { storage: true });
  // The abort step never fails on what it deletes; should it fail all the same, the error it
  // ends with is its own.
  abort.addCatch(props.failed, { errors: ['States.ALL'] });
  abort.next(props.failed);
  const caught = { errors: ['States.ALL'], resultPath: '$.caught' };

  const plan = task('PlanTraffic', functions.run, step('plan'), { pce: true, storage: true });
  const split = task('SplitTraffic', functions.run, step('split'), { storage: true });
  const complete = task('CompleteTraffic', functions.run, step('complete'), { storage: true });
  const round = childExecutionMap(scope, 'TrafficRound', {
    label: MAP_RUN_LABELS.trafficWindows,
    itemsPath: '$.round.windows',
    itemSelector: { run: JsonPath.objectAt('$.run'), window: JsonPath.objectAt('$$.Map.Item.Value') },
    maxConcurrency: props.windowConcurrency,
    // A child never fails by design (it records its errors); one that does all the same is told
    // by the result it did not record.
    toleratedFailurePercentage: 100,
    resultPath: JsonPath.DISCARD,
  });
  round.itemProcessor(windowChain(scope, functions, task));
  for (const state of [plan, split, complete, round]) state.addCatch(abort, caught);

  const status = new Choice(scope, 'TrafficRoundStatus')
    .when(Condition.isPresent('$.failure'), abort)
    .when(Condition.booleanEquals('$.done', true), complete.next(props.succeeded))
    .otherwise(round);
  plan.next(round).next(split).next(status);
  return plan;
}

type TaskFactory = (
  name: string,
  fn: NodejsFunction,
  payload: TaskInput | undefined,
  retries: { pce?: boolean; storage?: boolean },
) => LambdaInvoke;

function windowChain(scope: Construct, functions: TrafficFunctions, task: TaskFactory): IChainable {
  const step = (name: string) => TaskInput.fromObject({ step: name, state: JsonPath.entirePayload });
  const ended = new Pass(scope, 'TrafficWindowEnded', {
    parameters: { window: JsonPath.numberAt('$.window.id'), outcome: JsonPath.stringAt('$.outcome') },
  });
  const recordError = task('TrafficWindowError', functions.window, step('error'), {
    pce: true,
    storage: true,
  });
  recordError.addCatch(new Fail(scope, 'TrafficWindowLost', { errorPath: '$.Error', causePath: '$.Cause' }), {
    errors: ['States.ALL'],
  });
  recordError.next(ended);
  const caught = { errors: ['States.ALL'], resultPath: '$.caught' };

  const submit = task('TrafficWindowSubmit', functions.window, step('submit'), { pce: true, storage: true });
  const poll = task('TrafficWindowPoll', functions.window, step('poll'), { pce: true, storage: true });
  // Without Parameters, a task's event is its whole input: the window's state.
  const fetch = task('TrafficWindowFetch', functions.fetch, undefined, { pce: true, storage: true });
  for (const state of [submit, poll, fetch]) state.addCatch(recordError, caught);
  const wait = new Wait(scope, 'TrafficWindowWait', { time: WaitTime.secondsPath('$.job.waitSeconds') });
  const status = new Choice(scope, 'TrafficWindowStatus')
    .when(Condition.isPresent('$.outcome'), ended)
    .when(Condition.stringEquals('$.job.status', 'done'), fetch.next(ended))
    .otherwise(wait);
  wait.next(poll).next(status);
  return submit.next(status);
}

/**
 * A Lambda task whose result replaces the state, timed out by Step Functions a little after its
 * function would be, with the retries of its kind (workflow-timeout.ts): the PCE's rate limit
 * and unavailability for the steps that talk to it, S3 failures for the steps that store, and the
 * Lambda service's transient errors for all.
 */
function lambdaTask(
  scope: Construct,
  name: string,
  fn: NodejsFunction,
  payload: TaskInput | undefined,
  retries: { pce?: boolean; storage?: boolean },
): LambdaInvoke {
  const task = new LambdaInvoke(scope, name, {
    lambdaFunction: fn,
    payloadResponseOnly: true,
    payload,
    retryOnServiceExceptions: false,
    taskTimeout: Timeout.duration(
      Duration.seconds((fn.timeout?.toSeconds() ?? 3) + TASK_TIMEOUT_MARGIN_SECONDS),
    ),
  });
  const policies = [
    ...(retries.pce ? [RETRIES.rateLimited, RETRIES.unavailable] : []),
    ...(retries.storage ? [RETRIES.storage] : []),
    RETRIES.lambdaService,
  ];
  for (const policy of policies) {
    task.addRetry({
      errors: [...policy.errors],
      interval: Duration.seconds(policy.intervalSeconds),
      backoffRate: policy.backoffRate,
      maxAttempts: policy.maxAttempts,
      ...('maxDelaySeconds' in policy ? { maxDelay: Duration.seconds(policy.maxDelaySeconds) } : {}),
      jitterStrategy: JitterType.FULL,
    });
  }
  return task;
}
