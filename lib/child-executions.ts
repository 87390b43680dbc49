import { DistributedMap, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';

/*
 * Fan-out in Step Functions itself: a Distributed Map whose items run as STANDARD child
 * executions, each with its own 25,000-event history, so that the parent's history holds the
 * Map's few events whatever its children do. The traffic run's windows and a snapshot's members
 * run this way.
 */

/** The map runs' labels: a child is named `<state machine>/<label>:<id>` (the nag acknowledgements). */
export const MAP_RUN_LABELS = {
  trafficWindows: 'TrafficWindows',
  snapshotMembers: 'SnapshotMembers',
} as const;

export interface ChildExecutionMapProps {
  readonly label: (typeof MAP_RUN_LABELS)[keyof typeof MAP_RUN_LABELS];
  readonly itemsPath: string;
  readonly itemSelector: Record<string, unknown>;
  readonly maxConcurrency: number;
  /** Where the children's outputs go, in item order. */
  readonly resultPath: string;
  /** Without it, one failed child fails the Map (States.ExceedToleratedFailureThreshold). */
  readonly toleratedFailurePercentage?: number;
}

/** A Distributed Map of STANDARD child executions; its item processor is still to be set. */
export function childExecutionMap(
  scope: Construct,
  id: string,
  props: ChildExecutionMapProps,
): DistributedMap {
  return new DistributedMap(scope, id, {
    itemsPath: props.itemsPath,
    itemSelector: props.itemSelector,
    maxConcurrency: props.maxConcurrency,
    mapExecutionType: StateMachineType.STANDARD,
    label: props.label,
    resultPath: props.resultPath,
    ...(props.toleratedFailurePercentage === undefined
      ? {}
      : { toleratedFailurePercentage: props.toleratedFailurePercentage }),
  });
}
