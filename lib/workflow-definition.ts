import { Duration } from 'aws-cdk-lib';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import {
  Choice,
  Condition,
  type IChainable,
  JitterType,
  JsonPath,
  Pass,
  Result,
  Succeed,
  TaskInput,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { PceJobFailed, PceJobTimeout } from '../lambdas/pce/errors';
import { childExecutionMap, MAP_RUN_LABELS } from './child-executions';
import { DETAIL_TYPES, notifyTask } from './events';
import { type TrafficFunctions, trafficRun } from './traffic-fanout';
import { FailurePath } from './workflow-failures';
import { RETRIES, type RetryPolicy, TASK_TIMEOUT_MARGIN_SECONDS } from './workflow-timeout';

/*
 * The export state machine's definition (JSONPath, so that it runs unchanged in AWS and in the
 * local engine): IsSnapshot → either Submit → WaitForJob → Poll → JobStatus (loop) → Fetch, or
 * PlanSnapshot → ExportSnapshot (a Distributed Map: the same chain per member, each in a child
 * execution) → SnapshotStatus → WriteSnapshotManifest. Every
 * outcome puts an event on the bus. Every Task and Map catches States.ALL: whatever fails ends
 * in a Fail whose error is one of the names of PRODUCT.md 3.3 (`workflow-failures.ts`).
 */

/** The functions the definition's tasks invoke. */
export interface WorkflowFunctions {
  readonly submit: NodejsFunction;
  readonly poll: NodejsFunction;
  readonly fetch: NodejsFunction;
  readonly snapshot: NodejsFunction;
  /** Writes the change history after Fetch, for an export that asks for it. */
  readonly changes: NodejsFunction;
  /** The traffic run's (lib/traffic-fanout.ts). */
  readonly traffic: TrafficFunctions;
}

/** Builds the states in `scope` (their ids are the state names). */
export class WorkflowDefinition {
  constructor(
    private readonly scope: Construct,
    private readonly functions: WorkflowFunctions,
    private readonly eventBus: IEventBus,
  ) {}

  build(snapshotMaxConcurrency: number, trafficWindowConcurrency: number): IChainable {
    const execution = {
      name: JsonPath.stringAt('$$.Execution.Name'),
      startTime: JsonPath.stringAt('$$.Execution.StartTime'),
    };
    const done = new Succeed(this.scope, 'Done');
    const failure = new FailurePath(this.scope, {
      prefix: '',
      end: { kind: 'notify', eventBus: this.eventBus },
    });

    // One export: Submit → WaitForJob → Poll → JobStatus → Fetch, each outcome announced; a
    // traffic export goes from Submit to the traffic run, which ends the same ways.
    const succeeded = notifyTask(this.scope, 'NotifySucceeded', {
      eventBus: this.eventBus,
      detailType: DETAIL_TYPES.exportSucceeded,
      detail: TaskInput.fromJsonPathAt('$'),
      next: done,
    });
    const single = this.exportChain('', failure, {
      submitPayload: TaskInput.fromObject({ input: JsonPath.entirePayload, execution }),
      afterFetch: this.changeHistory(succeeded, failure),
      trafficRun: trafficRun(this.scope, {
        functions: this.functions.traffic,
        windowConcurrency: trafficWindowConcurrency,
        succeeded,
        failed: failure.entry,
      }),
    });

    // A snapshot: the same chain per export, each member a child execution of a Distributed Map
    // (its own history, lib/child-executions.ts). A member ends its child with `failed` in its
    // result, false after Fetch, true with the described failure; once every member has ended,
    // the first failure in member order fails the execution, before the manifest is written. A
    // child that fails all the same (its history or time ran out) fails the Map.
    const memberFailure = new FailurePath(this.scope, { prefix: 'Snapshot', end: { kind: 'childResult' } });
    const member = this.exportChain('Snapshot', memberFailure, {
      afterFetch: new Pass(this.scope, 'SnapshotExported', {
        result: Result.fromBoolean(false),
        resultPath: '$.failed',
      }),
    });
    const plan = this.task('PlanSnapshot', this.functions.snapshot, {
      payload: TaskInput.fromObject({ step: 'plan', input: JsonPath.entirePayload, execution }),
      retries: [RETRIES.lambdaService],
    });
    const exportSnapshot = childExecutionMap(this.scope, 'ExportSnapshot', {
      label: MAP_RUN_LABELS.snapshotMembers,
      itemsPath: '$.snapshot.members',
      itemSelector: {
        input: JsonPath.objectAt('$$.Map.Item.Value'),
        execution: { ...execution, snapshot: JsonPath.stringAt('$.snapshot.name') },
      },
      maxConcurrency: snapshotMaxConcurrency,
      resultPath: '$.results',
    }).itemProcessor(member.chain);
    const writeManifest = this.task('WriteSnapshotManifest', this.functions.snapshot, {
      payload: TaskInput.fromObject({
        step: 'complete',
        snapshot: JsonPath.objectAt('$.snapshot'),
        results: JsonPath.objectAt('$.results'),
        execution,
      }),
      retries: [RETRIES.storage, RETRIES.lambdaService],
    });
    for (const state of [plan, exportSnapshot, writeManifest]) {
      state.addCatch(failure.entry, { errors: ['States.ALL'] });
    }
    // Every member's result has `failed` (a plan has at least one member), so the paths below
    // always select something; `failure` only once a member has failed.
    const memberFailed = new Pass(this.scope, 'SnapshotMemberFailed', {
      parameters: { failures: JsonPath.listAt('$.results[*].failure') },
      outputPath: '$.failures[0]',
    }).next(failure.described);
    const membersStatus = new Pass(this.scope, 'ReadSnapshotResults', {
      parameters: { failed: JsonPath.listAt('$.results[*].failed') },
      resultPath: '$.members',
    })
      .next(
        new Pass(this.scope, 'CheckSnapshotResults', {
          parameters: { 'anyFailed.$': 'States.ArrayContains($.members.failed, true)' },
          resultPath: '$.members',
        }),
      )
      .next(
        new Choice(this.scope, 'SnapshotStatus')
          .when(Condition.booleanEquals('$.members.anyFailed', true), memberFailed)
          .otherwise(writeManifest),
      );
    const snapshotRun = plan.next(exportSnapshot).next(membersStatus);
    writeManifest.next(
      notifyTask(this.scope, 'NotifySnapshotSucceeded', {
        eventBus: this.eventBus,
        detailType: DETAIL_TYPES.snapshotSucceeded,
        detail: TaskInput.fromJsonPathAt('$'),
        next: done,
      }),
    );

    return new Choice(this.scope, 'IsSnapshot')
      .when(Condition.isPresent('$.snapshot'), snapshotRun)
      .otherwise(single.chain);
  }

  /**
   * After Fetch: an export whose output names `changes` (it asked for its change history) goes
   * through WriteChanges, which replaces `changes` with what it wrote; any other goes on as it is.
   */
  private changeHistory(next: IChainable, failure: FailurePath): IChainable {
    const writeChanges = this.task('WriteChanges', this.functions.changes, {
      retries: [RETRIES.storage, RETRIES.lambdaService],
    });
    writeChanges.addCatch(failure.entry, { errors: ['States.ALL'] });
    return new Choice(this.scope, 'ChangeHistory')
      .when(Condition.isPresent('$.changes'), writeChanges.next(next))
      .otherwise(next);
  }

  /**
   * Submit → WaitForJob → Poll → JobStatus (loop) → Fetch, with state names starting with
   * `prefix` (names are unique across a definition, Map iterations included). Submit's event is
   * `submitPayload`, or the whole state when left out. Every task catches States.ALL into
   * `failure`; a job that failed or timed out goes there too, described. With `trafficRun`, a
   * Submit that hands a traffic export on (`fanOut`) goes there instead.
   */
  private exportChain(
    prefix: string,
    failure: FailurePath,
    next: { submitPayload?: TaskInput; afterFetch?: IChainable; trafficRun?: IChainable },
  ) {
    const submit = this.task(`${prefix}Submit`, this.functions.submit, {
      payload: next.submitPayload,
      retries: [RETRIES.lambdaService],
    });
    // Submit, Poll and Fetch hand a PCE that is unavailable back to the definition with a wait
    // (the PCE's Retry-After or a backoff), which a Wait state honours: they are called again
    // after it, Submit and Fetch with the state they returned as their event.
    const retrySubmit = this.task(`${prefix}RetrySubmit`, this.functions.submit, {
      retries: [RETRIES.lambdaService],
    });
    const waitForJob = new Wait(this.scope, `${prefix}WaitForJob`, {
      time: WaitTime.secondsPath('$.job.waitSeconds'),
    });
    const submitStatus = new Choice(this.scope, `${prefix}SubmitStatus`)
      .when(Condition.isPresent('$.job'), waitForJob)
      .otherwise(
        new Wait(this.scope, `${prefix}WaitToSubmit`, {
          time: WaitTime.secondsPath('$.submit.waitSeconds'),
        }).next(retrySubmit),
      );
    retrySubmit.next(submitStatus);
    // Poll and Fetch take the whole state as their event: without Parameters a task's input is `$`.
    const poll = this.task(`${prefix}Poll`, this.functions.poll, { retries: [RETRIES.lambdaService] });
    const fetch = this.task(`${prefix}Fetch`, this.functions.fetch, {
      retries: [RETRIES.storage, RETRIES.lambdaService],
    });
    const fetchStatus = new Choice(this.scope, `${prefix}FetchStatus`)
      .when(
        Condition.isPresent('$.job'),
        new Wait(this.scope, `${prefix}WaitToFetch`, {
          time: WaitTime.secondsPath('$.job.waitSeconds'),
        }).next(fetch),
      )
      .otherwise(next.afterFetch ?? new Succeed(this.scope, `${prefix}Exported`));
    for (const task of [submit, retrySubmit, poll, fetch]) {
      task.addCatch(failure.entry, { errors: ['States.ALL'] });
    }
    const jobEnded = (name: string, error: string) =>
      new Pass(this.scope, `${prefix}${name}`, {
        parameters: {
          error,
          cause: JsonPath.stringAt('$.job.message'),
          original: { error, cause: JsonPath.stringAt('$.job.message') },
        },
      }).next(failure.described);
    const jobStatus = new Choice(this.scope, `${prefix}JobStatus`)
      .when(Condition.stringEquals('$.job.status', 'done'), fetch.next(fetchStatus))
      .when(Condition.stringEquals('$.job.status', 'failed'), jobEnded('JobFailed', PceJobFailed.errorName))
      .when(Condition.booleanEquals('$.job.timedOut', true), jobEnded('JobTimedOut', PceJobTimeout.errorName))
      .otherwise(waitForJob);
    waitForJob.next(poll).next(jobStatus);
    const afterSubmit = next.trafficRun
      ? new Choice(this.scope, `${prefix}IsTrafficRun`)
          .when(Condition.isPresent('$.fanOut'), next.trafficRun)
          .otherwise(submitStatus)
      : submitStatus;
    return { chain: submit.next(afterSubmit) };
  }

  /**
   * A Lambda task whose result replaces the state, timed out by Step Functions a little after
   * its function would be, with `retries` (the other errors are final).
   */
  private task(
    name: string,
    fn: NodejsFunction,
    options: { payload?: TaskInput; retries: readonly RetryPolicy[] },
  ): LambdaInvoke {
    const task = new LambdaInvoke(this.scope, name, {
      lambdaFunction: fn,
      payloadResponseOnly: true,
      payload: options.payload,
      retryOnServiceExceptions: false,
      taskTimeout: Timeout.duration(
        Duration.seconds((fn.timeout?.toSeconds() ?? 3) + TASK_TIMEOUT_MARGIN_SECONDS),
      ),
    });
    for (const policy of options.retries) {
      task.addRetry({
        errors: [...policy.errors],
        interval: Duration.seconds(policy.intervalSeconds),
        backoffRate: policy.backoffRate,
        maxAttempts: policy.maxAttempts,
        ...(policy.maxDelaySeconds === undefined
          ? {}
          : { maxDelay: Duration.seconds(policy.maxDelaySeconds) }),
        jitterStrategy: JitterType.FULL,
      });
    }
    return task;
  }
}
