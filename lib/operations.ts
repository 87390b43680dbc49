import { Duration, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/*
 * What operators watch: alarms on failed, timed-out and aborted executions (one per PCE's state
 * machine) and on schedules that failed to start (the Scheduler's dead-letter queue), all to one
 * SNS topic with an optional e-mail subscription, and a dashboard of executions by status,
 * duration and bytes per export, PCE requests and retries, and errors by name. The per-export
 * figures are the functions' EMF metrics (namespace `pce-export`, dimensions `export` and `pce`,
 * `lambdas/handlers/powertools.ts`), found by SEARCH so that every export has its line.
 */

/** The namespace of the functions' metrics. */
const METRICS_NAMESPACE = 'pce-export';

export interface OperationsProps {
  /** Each PCE's state machine, by its PCE's name (`''` for the one PCE of a deployment without names). */
  readonly stateMachines: Readonly<Record<string, StateMachine>>;
  /** The schedules' dead-letter queue, when there are schedules. */
  readonly scheduleDeadLetterQueue?: IQueue;
  /** @default - no subscription: subscribe to the topic by hand */
  readonly alarmEmail?: string;
}

const PERIOD = Duration.minutes(5);

export class Operations extends Construct {
  public readonly topic: Topic;
  /** Failed, timed-out or aborted executions, by PCE name (`''` for an unnamed one). */
  public readonly executionAlarms: Readonly<Record<string, Alarm>>;
  /** A schedule could not start its execution after every retry. */
  public readonly scheduleAlarm?: Alarm;
  public readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    this.topic = new Topic(scope, 'AlarmTopic', { displayName: 'pce-export alarms', enforceSSL: true });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'The topic carries alarm state changes only (alarm name, metric values), no export data. CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key, and a customer-managed key would cost more than the data warrants.',
    });
    const action = new SnsAction(this.topic);

    const alarms: Record<string, Alarm> = {};
    for (const [pce, stateMachine] of Object.entries(props.stateMachines)) {
      // The first (or only) alarm keeps the id the stack always gave it.
      const alarm = new Alarm(scope, pce === '' ? 'ExecutionsFailedAlarm' : `ExecutionsFailedAlarm-${pce}`, {
        alarmDescription: `A pce-export execution${pce === '' ? '' : ` of PCE ${pce}`} failed, timed out or was aborted. The execution history shows the error (PceAuthError, PceJobFailed, ...) and its cause.`,
        metric: new MathExpression({
          expression: 'failed + timedOut + aborted',
          label: 'Executions failed, timed out or aborted',
          period: PERIOD,
          usingMetrics: {
            failed: stateMachine.metricFailed({ period: PERIOD, statistic: 'Sum' }),
            timedOut: stateMachine.metricTimedOut({ period: PERIOD, statistic: 'Sum' }),
            aborted: stateMachine.metricAborted({ period: PERIOD, statistic: 'Sum' }),
          },
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      alarms[pce] = alarm;
    }
    this.executionAlarms = alarms;

    const queue = props.scheduleDeadLetterQueue;
    if (queue) {
      this.scheduleAlarm = new Alarm(scope, 'ScheduleFailedToStartAlarm', {
        alarmDescription:
          "A pce-export schedule could not start its execution after every retry (throttling, a missing state machine or permission): the start's event is in the schedules' dead-letter queue, with the error in its message attributes.",
        metric: queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      this.scheduleAlarm.addAlarmAction(action);
    }

    this.dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.days(7) });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          '## pce-export\nExecutions per state machine; bytes, duration, polls and PCE requests per export (EMF metrics, dimensions `export` and `pce`); errors by name.',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      ...Object.entries(props.stateMachines).map(
        ([pce, stateMachine]) =>
          new GraphWidget({
            title: `Executions by status${pce === '' ? '' : ` (${pce})`}`,
            stacked: true,
            width: 12,
            left: [
              stateMachine.metricSucceeded({ period: PERIOD, statistic: 'Sum', label: 'succeeded' }),
              stateMachine.metricFailed({ period: PERIOD, statistic: 'Sum', label: 'failed' }),
              stateMachine.metricTimedOut({ period: PERIOD, statistic: 'Sum', label: 'timed out' }),
              stateMachine.metricAborted({ period: PERIOD, statistic: 'Sum', label: 'aborted' }),
            ],
          }),
      ),
    );
    this.dashboard.addWidgets(
      graph('Bytes per export', [search('Bytes', 'Sum')]),
      graph('Duration per export (seconds, execution start to stored object)', [
        search('Duration', 'Maximum'),
      ]),
    );
    this.dashboard.addWidgets(
      graph('PCE requests and retries per export', [
        search('PceRequests', 'Sum'),
        search('PceRetries', 'Sum'),
      ]),
      graph('Errors by name', [search('Errors', 'Sum', ['error', 'export', 'pce', 'service'])]),
    );
    if (queue) {
      this.dashboard.addWidgets(
        graph('Schedules that failed to start (dead-letter queue)', [
          queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }),
        ]),
      );
    }
  }
}

function graph(title: string, left: IMetric[]): GraphWidget {
  return new GraphWidget({ title, left, width: 12 });
}

/** Every series of one of the functions' metrics, one line per export and PCE. */
function search(
  metricName: string,
  statistic: string,
  dimensions: readonly string[] = ['export', 'pce', 'service'],
): IMetric {
  return new MathExpression({
    expression: `SEARCH('{${METRICS_NAMESPACE},${dimensions.join(',')}} MetricName="${metricName}"', '${statistic}', ${PERIOD.toSeconds()})`,
    usingMetrics: {},
    label: '',
    period: PERIOD,
  });
}
