import { Duration, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Schedule, ScheduleExpression, ScheduleTargetInput, TimeWindow } from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { type ExportDefinition, exportInputOf } from './config';

/*
 * One EventBridge Scheduler schedule per scheduled export and snapshot. A start that still fails
 * after the retries (throttling, a deleted or disabled state machine, a role that lost its
 * permission) goes to a dead-letter queue, which an alarm watches (lib/operations.ts).
 */

/** Scheduled runs of one PCE's workflow. */
export interface ScheduledPce {
  /** Its name, with several PCEs: the schedules then sit below a scope of that name. */
  readonly name?: string;
  readonly stateMachine: IStateMachine;
  readonly exports: readonly ExportDefinition[];
  readonly snapshots: readonly {
    readonly name: string;
    readonly exports: readonly string[];
    readonly pce?: string;
    readonly schedule?: ExportDefinition['schedule'];
  }[];
}

/** StartExecution only fails on throttling or a service fault: retry for up to an hour. */
const RETRY = { retryAttempts: 10, maxEventAge: Duration.hours(1) } as const;

/** True when any export or snapshot of these PCEs has a schedule. */
export function hasSchedules(pces: readonly ScheduledPce[]): boolean {
  return pces.some(
    (pce) => pce.exports.some((entry) => entry.schedule) || pce.snapshots.some((entry) => entry.schedule),
  );
}

export class ExportSchedules extends Construct {
  /** Schedules by export name (with several PCEs: `pce/export`). */
  public readonly exports: Record<string, Schedule> = {};
  /** Schedules by snapshot name (with several PCEs: `pce/snapshot`). */
  public readonly snapshots: Record<string, Schedule> = {};
  /** Where a start goes that failed after every retry. */
  public readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, pces: readonly ScheduledPce[]) {
    super(scope, id);
    // One role for all schedules, allowed to start these state machines and nothing else.
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
      }),
      description: 'Lets EventBridge Scheduler start the pce-export state machine',
    });
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue of the schedules; its messages are read by hand after its alarm.',
    });
    for (const pce of pces) {
      const parent = pce.name === undefined ? this : new Construct(this, pce.name);
      const qualified = (name: string) => (pce.name === undefined ? name : `${pce.name}/${name}`);
      for (const definition of pce.exports) {
        const { schedule } = definition;
        if (schedule === undefined) continue;
        this.exports[qualified(definition.name)] = new Schedule(parent, definition.name, {
          description: `pce-export ${qualified(definition.name)} (${definition.kind === 'traffic' ? 'traffic flows' : definition.path})`,
          schedule: ScheduleExpression.expression(schedule.expression, TimeZone.of(schedule.timeZone)),
          enabled: schedule.enabled,
          timeWindow: TimeWindow.off(),
          target: new StepFunctionsStartExecution(pce.stateMachine, {
            role,
            input: ScheduleTargetInput.fromObject(exportInputOf(definition)),
            deadLetterQueue: this.deadLetterQueue,
            ...RETRY,
          }),
        });
      }
      for (const snapshot of pce.snapshots) {
        const { schedule } = snapshot;
        if (schedule === undefined) continue;
        // "." cannot occur in an export name, so these ids never meet an export's.
        this.snapshots[qualified(snapshot.name)] = new Schedule(parent, `snapshot.${snapshot.name}`, {
          description:
            `pce-export snapshot ${qualified(snapshot.name)} (${snapshot.exports.join(', ')})`.slice(0, 512),
          schedule: ScheduleExpression.expression(schedule.expression, TimeZone.of(schedule.timeZone)),
          enabled: schedule.enabled,
          timeWindow: TimeWindow.off(),
          target: new StepFunctionsStartExecution(pce.stateMachine, {
            role,
            input: ScheduleTargetInput.fromObject({
              snapshot: { name: snapshot.name },
              ...(snapshot.pce === undefined ? {} : { pce: snapshot.pce }),
            }),
            deadLetterQueue: this.deadLetterQueue,
            ...RETRY,
          }),
        });
      }
    }
  }
}
