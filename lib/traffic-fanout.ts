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
 * A window's child execution: TrafficWindowSubmit → TrafficWindowSubmitStatus (PCE trouble →
 * TrafficWindowWaitToSubmit → TrafficWindowSubmit) → TrafficWindowStatus ─ waiting →
 * TrafficWindowWait → TrafficWindowPoll → TrafficWindowStatus; done → TrafficWindowFetch →
 * TrafficWindowFetchStatus (PCE trouble → TrafficWindowWaitToFetch → TrafficWindowFetch) →
 * TrafficWindowEnded; ended (truncated, failed, past the run's deadline) → TrafficWindowEnded.
 * Transient PCE trouble (5xx, 429, resets, timeouts) is waited out in those Wait states, as the
 * collection steps do, until the run's one deadline (`run.deadline`, fixed at plan time); PlanTraffic
 * waits in WaitToPlanTraffic the same way. A step's error is recorded
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

  const plan = task('PlanTraffic', functions.run, step('plan'), { storage: true });
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
  // Plan hands the start back with a wait when the PCE could not answer its label lookup.
  const planStatus = new Choice(scope, 'TrafficPlanStatus')
    .when(Condition.isPresent('$.round'), round)
    .otherwise(
      new Wait(scope, 'WaitToPlanTraffic', { time: WaitTime.secondsPath('$.plan.waitSeconds') }).next(plan),
    );
  plan.next(planStatus);
  round.next(split).next(status);
  return plan;
}

type TaskFactory = (
  name: string,
  fn: NodejsFunction,
  payload: TaskInput | undefined,
  retries: { storage?: boolean },
) => LambdaInvoke;

function windowChain(scope: Construct, functions: TrafficFunctions, task: TaskFactory): IChainable {
  const step = (name: string) => TaskInput.fromObject({ step: name, state: JsonPath.entirePayload });
  const ended = new Pass(scope, 'TrafficWindowEnded', {
    parameters: { window: JsonPath.numberAt('$.window.id'), outcome: JsonPath.stringAt('$.outcome') },
  });
  const recordError = task('TrafficWindowError', functions.window, step('error'), { storage: true });
  recordError.addCatch(new Fail(scope, 'TrafficWindowLost', { errorPath: '$.Error', causePath: '$.Cause' }), {
    errors: ['States.ALL'],
  });
  recordError.next(ended);
  const caught = { errors: ['States.ALL'], resultPath: '$.caught' };

  const submit = task('TrafficWindowSubmit', functions.window, step('submit'), { storage: true });
  const poll = task('TrafficWindowPoll', functions.window, step('poll'), { storage: true });
  // Without Parameters, a task's event is its whole input: the window's state.
  const fetch = task('TrafficWindowFetch', functions.fetch, undefined, { storage: true });
  for (const state of [submit, poll, fetch]) state.addCatch(recordError, caught);
  // Transient PCE trouble is no error: each step hands the state back with a wait (the PCE's
  // Retry-After or a backoff, never past the run's deadline) and a Wait state calls it again.
  const wait = new Wait(scope, 'TrafficWindowWait', { time: WaitTime.secondsPath('$.job.waitSeconds') });
  const fetchStatus = new Choice(scope, 'TrafficWindowFetchStatus')
    .when(Condition.isPresent('$.outcome'), ended)
    .otherwise(
      new Wait(scope, 'TrafficWindowWaitToFetch', { time: WaitTime.secondsPath('$.job.waitSeconds') }).next(
        fetch,
      ),
    );
  const status = new Choice(scope, 'TrafficWindowStatus')
    .when(Condition.isPresent('$.outcome'), ended)
    .when(Condition.stringEquals('$.job.status', 'done'), fetch.next(fetchStatus))
    .otherwise(wait);
  wait.next(poll).next(status);
  const submitStatus = new Choice(scope, 'TrafficWindowSubmitStatus')
    .when(
      Condition.isPresent('$.submit'),
      new Wait(scope, 'TrafficWindowWaitToSubmit', {
        time: WaitTime.secondsPath('$.submit.waitSeconds'),
      }).next(submit),
    )
    .otherwise(status);
  return submit.next(submitStatus);
}

/**
 * A Lambda task whose result replaces the state, timed out by Step Functions a little after its
 * function would be, with the retries of its kind (workflow-timeout.ts): S3 failures for the
 * steps that store, and the Lambda service's transient errors for all. PCE trouble is not retried
 * here: the steps wait it out in the definition's Wait states.
 */
function lambdaTask(
  scope: Construct,
  name: string,
  fn: NodejsFunction,
  payload: TaskInput | undefined,
  retries: { storage?: boolean },
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
  const policies = [...(retries.storage ? [RETRIES.storage] : []), RETRIES.lambdaService];
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
