import { Duration } from 'aws-cdk-lib';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import {
  Choice,
  Condition,
  Fail,
  type IChainable,
  JitterType,
  JsonPath,
  Map as MapState,
  Pass,
  Succeed,
  TaskInput,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { ERROR_NAMES, ExportStorageError } from '../lambdas/export/errors';
import { PceJobFailed, PceJobTimeout, PceRateLimited, PceUnavailable } from '../lambdas/pce/errors';
import { DETAIL_TYPES, failureDetail, notifyTask } from './events';
import { type TrafficFunctions, trafficRun } from './traffic-fanout';

/*
 * The export state machine's definition (JSONPath, so that it runs unchanged in AWS and in the
 * local engine): IsSnapshot → either Submit → WaitForJob → Poll → JobStatus (loop) → Fetch, or
 * PlanSnapshot → ExportSnapshot (the same chain per member) → WriteSnapshotManifest. Every
 * outcome puts an event on the bus; every named error ends in a Fail of that name.
 */

/** Step Functions retries on the Lambda service's own transient errors. */
const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/** The functions the definition's tasks invoke. */
export interface WorkflowFunctions {
  readonly submit: NodejsFunction;
  readonly poll: NodejsFunction;
  readonly fetch: NodejsFunction;
  readonly snapshot: NodejsFunction;
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

    // A Lambda error's Cause is the JSON {errorType, errorMessage, trace}; the execution fails
    // with the error's name and its message as the cause.
    const describeFailure = new Pass(this.scope, 'DescribeFailure', {
      parameters: {
        error: JsonPath.stringAt('$.Error'),
        detail: JsonPath.stringToJson(JsonPath.stringAt('$.Cause')),
      },
    }).next(
      notifyTask(this.scope, 'NotifyExportFailed', {
        eventBus: this.eventBus,
        detailType: DETAIL_TYPES.exportFailed,
        detail: failureDetail({
          error: JsonPath.stringAt('$.error'),
          cause: JsonPath.stringAt('$.detail.errorMessage'),
        }),
        next: new Fail(this.scope, 'ExportFailed', {
          errorPath: '$.error',
          causePath: '$.detail.errorMessage',
        }),
      }),
    );
    // The error ({Error, Cause}) replaces the state: a ResultPath such as "$.failure" cannot be
    // applied to an execution input that is not an object (an array, a string), which would end
    // the run in States.ResultPathMatchFailure instead of ExportConfigError. ResultPath is left
    // out rather than written as "$", which the local executor would take for a key named "$".
    const catchNamedErrors = (...states: (LambdaInvoke | MapState)[]) => {
      for (const state of states) state.addCatch(describeFailure, { errors: [...ERROR_NAMES] });
    };

    // One export: Submit → WaitForJob → Poll → JobStatus → Fetch, each outcome announced; a
    // traffic export goes from Submit to the traffic run, which ends the same ways.
    const jobMessage = JsonPath.stringAt('$.job.message');
    const succeeded = notifyTask(this.scope, 'NotifySucceeded', {
      eventBus: this.eventBus,
      detailType: DETAIL_TYPES.exportSucceeded,
      detail: TaskInput.fromJsonPathAt('$'),
      next: done,
    });
    const single = this.exportChain('', {
      submitPayload: TaskInput.fromObject({ input: JsonPath.entirePayload, execution }),
      afterFetch: succeeded,
      trafficRun: trafficRun(this.scope, {
        functions: this.functions.traffic,
        windowConcurrency: trafficWindowConcurrency,
        succeeded,
        failed: describeFailure,
        serviceErrors: LAMBDA_SERVICE_ERRORS,
      }),
      jobFailed: notifyTask(this.scope, 'NotifyJobFailed', {
        eventBus: this.eventBus,
        detailType: DETAIL_TYPES.exportFailed,
        detail: failureDetail({ error: PceJobFailed.errorName, cause: jobMessage }),
        next: new Fail(this.scope, 'JobFailed', {
          error: PceJobFailed.errorName,
          causePath: '$.job.message',
        }),
      }),
      jobTimedOut: notifyTask(this.scope, 'NotifyJobTimedOut', {
        eventBus: this.eventBus,
        detailType: DETAIL_TYPES.exportFailed,
        detail: failureDetail({ error: PceJobTimeout.errorName, cause: jobMessage }),
        next: new Fail(this.scope, 'JobTimedOut', {
          error: PceJobTimeout.errorName,
          causePath: '$.job.message',
        }),
      }),
    });
    catchNamedErrors(...single.tasks);

    // A snapshot: the same chain per export in an inline Map. A job that fails or times out ends
    // its iteration in a Fail whose cause has the shape of a Lambda error's, so that the Map's
    // one Catch describes every member failure alike; the first failure fails the Map, and the
    // execution, before the manifest is written.
    const memberEnded = new Pass(this.scope, 'SnapshotJobEnded', {
      parameters: {
        error: JsonPath.stringAt('$.errorType'),
        cause: JsonPath.jsonToString(JsonPath.objectAt('$')),
      },
    }).next(new Fail(this.scope, 'SnapshotMemberFailed', { errorPath: '$.error', causePath: '$.cause' }));
    const member = this.exportChain('Snapshot', {
      jobFailed: new Pass(this.scope, 'SnapshotJobFailed', {
        parameters: { errorType: PceJobFailed.errorName, errorMessage: jobMessage },
      }).next(memberEnded),
      jobTimedOut: new Pass(this.scope, 'SnapshotJobTimedOut', {
        parameters: { errorType: PceJobTimeout.errorName, errorMessage: jobMessage },
      }).next(memberEnded),
    });
    const plan = this.task('PlanSnapshot', this.functions.snapshot, {
      payload: TaskInput.fromObject({ step: 'plan', input: JsonPath.entirePayload, execution }),
    });
    const exportSnapshot = new MapState(this.scope, 'ExportSnapshot', {
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
      storageRetries: true,
    });
    catchNamedErrors(plan, exportSnapshot, writeManifest);
    const snapshotRun = plan
      .next(exportSnapshot)
      .next(writeManifest)
      .next(
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
   * Submit → WaitForJob → Poll → JobStatus (loop) → Fetch, with state names starting with
   * `prefix` (names are unique across a definition, Map iterations included). Submit's event is
   * `submitPayload`, or the whole state when left out. With `trafficRun`, a Submit that hands a
   * traffic export on (`fanOut`) goes there instead.
   */
  private exportChain(
    prefix: string,
    next: {
      submitPayload?: TaskInput;
      afterFetch?: IChainable;
      trafficRun?: IChainable;
      jobFailed: IChainable;
      jobTimedOut: IChainable;
    },
  ) {
    const submit = this.task(`${prefix}Submit`, this.functions.submit, { payload: next.submitPayload });
    const waitForJob = new Wait(this.scope, `${prefix}WaitForJob`, {
      time: WaitTime.secondsPath('$.job.waitSeconds'),
    });
    // Poll and Fetch take the whole state as their event: without Parameters a task's input is `$`.
    const poll = this.task(`${prefix}Poll`, this.functions.poll, {});
    const fetch = this.task(`${prefix}Fetch`, this.functions.fetch, { storageRetries: true });
    const jobStatus = new Choice(this.scope, `${prefix}JobStatus`)
      .when(
        Condition.stringEquals('$.job.status', 'done'),
        next.afterFetch ? fetch.next(next.afterFetch) : fetch,
      )
      .when(Condition.stringEquals('$.job.status', 'failed'), next.jobFailed)
      .when(Condition.booleanEquals('$.job.timedOut', true), next.jobTimedOut)
      .otherwise(waitForJob);
    waitForJob.next(poll).next(jobStatus);
    const afterSubmit = next.trafficRun
      ? new Choice(this.scope, `${prefix}IsTrafficRun`)
          .when(Condition.isPresent('$.fanOut'), next.trafficRun)
          .otherwise(waitForJob)
      : waitForJob;
    return { tasks: [submit, poll, fetch], chain: submit.next(afterSubmit) };
  }

  /**
   * A Lambda task whose result replaces the state. Retries: the PCE's rate limit and
   * unavailability, S3 failures for Fetch, and the Lambda service's transient errors; the other
   * named errors are final.
   */
  private task(
    name: string,
    fn: NodejsFunction,
    options: { payload?: TaskInput; storageRetries?: boolean },
  ): LambdaInvoke {
    const task = new LambdaInvoke(this.scope, name, {
      lambdaFunction: fn,
      payloadResponseOnly: true,
      payload: options.payload,
      retryOnServiceExceptions: false,
    });
    task.addRetry({
      errors: [PceRateLimited.errorName],
      interval: Duration.seconds(10),
      backoffRate: 2,
      maxAttempts: 4,
      maxDelay: Duration.seconds(120),
      jitterStrategy: JitterType.FULL,
    });
    task.addRetry({
      errors: [PceUnavailable.errorName],
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 4,
      maxDelay: Duration.seconds(30),
      jitterStrategy: JitterType.FULL,
    });
    if (options.storageRetries) {
      task.addRetry({
        errors: [ExportStorageError.errorName],
        interval: Duration.seconds(2),
        backoffRate: 2,
        maxAttempts: 3,
        maxDelay: Duration.seconds(30),
        jitterStrategy: JitterType.FULL,
      });
    }
    task.addRetry({
      errors: LAMBDA_SERVICE_ERRORS,
      interval: Duration.seconds(1),
      backoffRate: 2,
      maxAttempts: 3,
      jitterStrategy: JitterType.FULL,
    });
    return task;
  }
}
