import { Aws, Fn, Validations } from 'aws-cdk-lib';
import { MAP_RUN_LABELS } from './child-executions';
import type { ExportWorkflow } from './export-workflow';
import { nagResourceFinding } from './nag';

/*
 * The workflow's cdk-nag acknowledgements, each for one named finding: the wildcards that remain
 * are the ones IAM cannot scope further.
 */

/** The objects ARNs the workflow's bucket grants name (`bindBucket`). */
interface WorkflowObjectGrants {
  /** Fetch: everything below the prefix. */
  readonly objectsArn: string;
  /** The snapshot step: `{prefix}snapshots/*`. */
  readonly snapshotsArn: string;
  /** Changes: the export objects it reads, and the change histories and digests it writes. */
  readonly changesArns: readonly string[];
  /** Submit: every export's watermark, {prefix}{exportName}/watermark.json. */
  readonly watermarksArn: string;
  /** Fetch: the overlap keys of incremental events exports, below {prefix}{exportName}/_incremental/. */
  readonly eventsKeysArn: string;
}

export function acknowledgeWorkflowNagFindings(workflow: ExportWorkflow, grants: WorkflowObjectGrants): void {
  const { objectsArn, snapshotsArn, changesArns, watermarksArn, eventsKeysArn } = grants;
  const xray = 'X-Ray PutTraceSegments and PutTelemetryRecords do not support resource-level permissions.';
  if (workflow.changesFunction.role) {
    for (const arn of changesArns) {
      Validations.of(workflow.changesFunction.role).acknowledge({
        id: `AwsSolutions-IAM5[${nagResourceFinding(workflow, arn)}]`,
        reason:
          'Changes reads the export objects below the prefix and writes change histories and digests under generated keys in each export folder; the grants cover those keys only.',
      });
    }
  }
  const steps = [
    workflow.submitFunction,
    workflow.pollFunction,
    workflow.fetchFunction,
    workflow.snapshotFunction,
    workflow.changesFunction,
  ];
  for (const fn of steps) {
    if (fn.role) Validations.of(fn.role).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: xray });
  }
  if (workflow.fetchFunction.role) {
    Validations.of(workflow.fetchFunction.role).acknowledge({
      id: `AwsSolutions-IAM5[${nagResourceFinding(workflow, objectsArn)}]`,
      reason:
        'Fetch writes export objects, manifests and the latest pointer under generated keys below the configured prefix; the grant covers that prefix only.',
    });
  }
  if (workflow.submitFunction.role) {
    Validations.of(workflow.submitFunction.role).acknowledge({
      id: `AwsSolutions-IAM5[${nagResourceFinding(workflow, watermarksArn)}]`,
      reason:
        "Submit reads an incremental events export's watermark, {prefix}{exportName}/watermark.json, for whichever export the input names; the grant covers those objects only.",
    });
  }
  if (workflow.fetchFunction.role) {
    Validations.of(workflow.fetchFunction.role).acknowledge({
      id: `AwsSolutions-IAM5[${nagResourceFinding(workflow, eventsKeysArn)}]`,
      reason:
        "Fetch reads the previous run's overlap keys of an incremental events export, below {prefix}{exportName}/_incremental/; the grant covers those objects only.",
    });
  }
  if (workflow.snapshotFunction.role) {
    Validations.of(workflow.snapshotFunction.role).acknowledge({
      id: `AwsSolutions-IAM5[${nagResourceFinding(workflow, snapshotsArn)}]`,
      reason:
        'The snapshot step writes each snapshot manifest and latest pointer under generated keys below {prefix}snapshots/; the grant covers that folder only.',
    });
  }
  // A Distributed Map (the traffic run's windows, a snapshot's members) lets the state machine
  // start, describe and stop its own child executions, whose names only exist at run time.
  const name = Fn.select(6, Fn.split(':', workflow.stateMachine.stateMachineArn));
  const executions = `arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}:execution:${name}`;
  const mapRuns = Object.values(MAP_RUN_LABELS).map((label) => `${executions}/${label}:*`);
  for (const resource of [`${executions}:*`, ...mapRuns]) {
    Validations.of(workflow.stateMachine).acknowledge({
      id: `AwsSolutions-IAM5[${nagResourceFinding(workflow, resource)}]`,
      reason:
        'The Distributed Maps of the traffic run and of snapshots start, describe and stop child executions of this state machine; they are its executions and map runs, named at run time.',
    });
  }
  const stateMachineRole = Validations.of(workflow.stateMachine.role);
  stateMachineRole.acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'CloudWatch Logs delivery (logs:CreateLogDelivery and related) and X-Ray tracing actions do not support resource-level permissions.',
  });
  const { run, window, fetch } = workflow.trafficFunctions;
  for (const fn of [...steps, run, window, fetch]) {
    stateMachineRole.acknowledge({
      id: `AwsSolutions-IAM5[${nagResourceFinding(workflow, `${fn.functionArn}:*`)}]`,
      reason:
        'The LambdaInvoke grant includes the versions and aliases (":*") of this workflow function only.',
    });
  }
}
