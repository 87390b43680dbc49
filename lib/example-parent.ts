import { Arn, ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  DefinitionBody,
  IntegrationPattern,
  type IStateMachine,
  JsonPath,
  LogLevel,
  Pass,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { nagResourceFinding } from './nag';

/*
 * An example of another workflow using pce-export: a parent state machine that starts an export
 * with `states:startExecution.sync:2`, waits for it, and reads its output. Deployed only when the
 * configuration sets `"exampleParent": true`; copy it into your own workflow.
 *
 * Start it with the export's input, e.g. `{"exportName": "labels"}` or a snapshot input; its
 * output is `{"uri", "bucket", "manifestKey", "exportExecutionArn"}`. When the export fails, the
 * parent's RunExport state fails with States.TaskFailed and the child's error and cause in the
 * cause's JSON.
 */

export interface ExampleParentProps {
  /** The pce-export state machine. */
  readonly exportStateMachine: IStateMachine;
  /**
   * Retention of the parent's execution log group.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

export class ExampleParent extends Construct {
  public readonly stateMachine: StateMachine;
  public readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ExampleParentProps) {
    super(scope, id);
    // .sync:2 returns the child's output as JSON (not a string) in $.Output.
    const runExport = StepFunctionsStartExecution.jsonPath(this, 'RunExport', {
      stateMachine: props.exportStateMachine,
      integrationPattern: IntegrationPattern.RUN_JOB,
      input: TaskInput.fromJsonPathAt('$'),
      // The export's input is strict: the AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID field that
      // associating adds would be rejected as an unknown field.
      associateWithParent: false,
    });
    const readOutput = new Pass(this, 'ReadExportOutput', {
      parameters: {
        uri: JsonPath.stringAt('$.Output.uri'),
        bucket: JsonPath.stringAt('$.Output.bucket'),
        manifestKey: JsonPath.stringAt('$.Output.manifestKey'),
        exportExecutionArn: JsonPath.stringAt('$.ExecutionArn'),
      },
    });

    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(
        runExport.next(readOutput).next(new Succeed(this, 'Done')),
      ),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: true },
    });

    // The task grants StartExecution on the export state machine, Describe/StopExecution on its
    // executions and the managed rule .sync uses; these are the wildcards in it.
    const executions = Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      resourceName: `${Arn.split(props.exportStateMachine.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName}*`,
    });
    const role = Validations.of(this.stateMachine.role);
    role.acknowledge({
      id: `AwsSolutions-IAM5[${nagResourceFinding(this, executions)}]`,
      reason:
        "startExecution.sync:2 describes and, when the parent stops, stops the executions it started; they are the pce-export state machine's executions, whose names are only known at run time.",
    });
    role.acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'CloudWatch Logs delivery (logs:CreateLogDelivery and related) and X-Ray tracing actions do not support resource-level permissions.',
    });
  }
}
