import { randomUUID } from 'node:crypto';
import { executionArn } from './children';
import type { LocalEvents } from './events';
import { type ExecutionRecord, type ExecutionStatus, runExecution, type WorkflowEvent } from './execution';
import type { LambdaFaults } from './faults';
import type { HistorySummary } from './history';
import type { LambdaHandler } from './lambda';
import { LOCAL_STATE_MACHINE_NAME, type LocalDefinition, type LocalStateMachine } from './stack';

export type { WorkflowEvent } from './execution';
export { LOCAL_STATE_MACHINE_NAME } from './stack';

interface RunDetails {
  readonly executionName: string;
  readonly executionArn: string;
  /** DescribeExecution's status: a FAILED outcome may also have TIMED_OUT or ABORTED. */
  readonly executionStatus: ExecutionStatus;
  /** The execution's own history events. */
  readonly history: HistorySummary;
  /** The child executions it started (each with its history and children). */
  readonly children: readonly ExecutionRecord[];
}

export type RunOutcome =
  | (RunDetails & { readonly status: 'SUCCEEDED'; readonly output: unknown })
  | (RunDetails & { readonly status: 'FAILED'; readonly error: string; readonly cause: string });

export interface WorkflowRunOptions {
  readonly local: LocalDefinition;
  /** By handler module name. */
  readonly handlers: Readonly<Record<string, LambdaHandler>>;
  /** Where the definition's EventBridge PutEvents tasks put their events. */
  readonly events: LocalEvents;
  readonly input: unknown;
  /** @default a new UUID, as StartExecution would choose */
  readonly executionName?: string;
  /**
   * Which state machine of the stack to run: its local name or its construct path.
   * @default the export workflow
   */
  readonly stateMachine?: string;
  readonly onEvent?: (event: WorkflowEvent) => void;
  /**
   * Milliseconds to pause before each retry, by state name, instead of the definition's backoff
   * (tests of "still failing after every retry" would otherwise wait minutes).
   * @default the definition's IntervalSeconds, BackoffRate, MaxDelaySeconds and jitter
   */
  readonly retryIntervalOverrides?: Readonly<Record<string, number | readonly number[]>>;
  /** Milliseconds each Wait state pauses, by state name, instead of its seconds. @default the real wait */
  readonly waitTimeOverrides?: Readonly<Record<string, number>>;
  /** Lambda service errors to inject. @default none */
  readonly lambdaFaults?: LambdaFaults;
  /** Stops the execution (ABORTED), as StopExecution does. */
  readonly signal?: AbortSignal;
}

/** The ARN a local execution of the export workflow has, e.g. in the `resources` of the events it sends. */
export function localExecutionArn(executionName: string): string {
  return executionArn(LOCAL_STATE_MACHINE_NAME, executionName);
}

/** A state machine of the stack by local name, or by construct path (in full, or without the stack). */
function findStateMachine(local: LocalDefinition, nameOrPath: string): LocalStateMachine {
  const machines = Object.values(local.stateMachines);
  const found =
    local.stateMachines[nameOrPath] ??
    machines.find((machine) => machine.path === nameOrPath || machine.path.endsWith(`/${nameOrPath}`)) ??
    machines.find((machine) => machine.path.endsWith(`/${nameOrPath}/StateMachine`));
  if (!found) {
    throw new Error(
      `no state machine ${JSON.stringify(nameOrPath)} in the stack (it has ${machines.map((m) => m.name).join(', ')})`,
    );
  }
  return found;
}

/**
 * Executes a state machine of the synthesized stack (by default the export workflow) with
 * aws-local-stepfunctions and the engine's models of what AWS enforces (`execution.ts`). Task
 * states call the real handler modules through a Lambda-like boundary; Wait states and Retry
 * intervals take their real durations.
 */
export async function runWorkflow(options: WorkflowRunOptions): Promise<RunOutcome> {
  const machine = findStateMachine(options.local, options.stateMachine ?? LOCAL_STATE_MACHINE_NAME);
  const executionName = options.executionName ?? randomUUID();
  const record = await runExecution(
    {
      stateMachines: options.local.stateMachines,
      functions: options.local.functions,
      handlers: options.handlers,
      events: options.events,
      ...(options.lambdaFaults ? { lambdaFaults: options.lambdaFaults } : {}),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      ...(options.retryIntervalOverrides ? { retryIntervalOverrides: options.retryIntervalOverrides } : {}),
      ...(options.waitTimeOverrides ? { waitTimeOverrides: options.waitTimeOverrides } : {}),
    },
    {
      definition: machine.definition,
      stateMachine: { name: machine.name, arn: machine.arn },
      executionName,
      executionArn: executionArn(machine.name, executionName),
      input: options.input,
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
  return outcomeOf(record);
}

function outcomeOf(record: ExecutionRecord): RunOutcome {
  const details: RunDetails = {
    executionName: record.executionName,
    executionArn: record.executionArn,
    executionStatus: record.status,
    history: record.history,
    children: record.children,
  };
  return record.status === 'SUCCEEDED'
    ? { ...details, status: 'SUCCEEDED', output: record.output }
    : { ...details, status: 'FAILED', error: record.error ?? '', cause: record.cause ?? '' };
}
