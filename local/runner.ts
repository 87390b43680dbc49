import './polyfills';
import { randomUUID } from 'node:crypto';
import { ExecutionError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { LocalDefinition } from './definition';
import type { LocalEvents } from './events';
import { asLambda, type LambdaHandler } from './lambda';

/** What happened in the execution, as the local executor reports it (a subset of its event log). */
export interface WorkflowEvent {
  readonly type: string;
  readonly timestamp: number;
  readonly state?: {
    readonly name: string;
    readonly type: string;
    readonly input?: unknown;
    readonly output?: unknown;
  };
  readonly Error?: string;
  readonly Cause?: unknown;
  readonly retry?: { readonly attempt: number };
}

export type RunOutcome =
  | { readonly status: 'SUCCEEDED'; readonly executionName: string; readonly output: unknown }
  | {
      readonly status: 'FAILED';
      readonly executionName: string;
      readonly error: string;
      readonly cause: string;
    };

export interface WorkflowRunOptions {
  readonly local: LocalDefinition;
  readonly handlers: Readonly<Record<string, LambdaHandler>>;
  /** Where the definition's EventBridge PutEvents tasks put their events. */
  readonly events: LocalEvents;
  readonly input: unknown;
  /** @default a new UUID, as StartExecution would choose */
  readonly executionName?: string;
  readonly onEvent?: (event: WorkflowEvent) => void;
  /**
   * Milliseconds to pause before each retry, by state name, instead of the definition's backoff
   * (tests of "still failing after every retry" would otherwise wait minutes).
   * @default the definition's IntervalSeconds, BackoffRate, MaxDelaySeconds and jitter
   */
  readonly retryIntervalOverrides?: Readonly<Record<string, number | readonly number[]>>;
}

export const LOCAL_STATE_MACHINE_NAME = 'PceExportWorkflow';
export const LOCAL_STATE_MACHINE_ARN = `arn:aws:states:us-east-1:000000000000:stateMachine:${LOCAL_STATE_MACHINE_NAME}`;

/** The ARN a local execution has, e.g. in the `resources` of the events it sends. */
export function localExecutionArn(executionName: string): string {
  return `arn:aws:states:us-east-1:000000000000:execution:${LOCAL_STATE_MACHINE_NAME}:${executionName}`;
}

/**
 * Executes the synthesized definition with aws-local-stepfunctions. Task states call the real
 * handler modules through a Lambda-like boundary; Wait states and Retry intervals take their real
 * durations.
 */
export async function runWorkflow(options: WorkflowRunOptions): Promise<RunOutcome> {
  const { local, handlers } = options;
  const executionName = options.executionName ?? randomUUID();
  const executionArn = localExecutionArn(executionName);
  const stateMachineArn = LOCAL_STATE_MACHINE_ARN;
  const taskResourceLocalHandlers = Object.fromEntries(
    Object.entries(local.taskHandlers).map(([stateName, target]) => {
      if (target === 'events:putEvents') {
        return [
          stateName,
          (parameters: unknown) => options.events.putEvents(parameters, { executionArn, stateMachineArn }),
        ];
      }
      const handler = handlers[target];
      if (!handler) throw new Error(`no handler loaded for ${target}`);
      return [stateName, asLambda(target, handler)];
    }),
  );
  const stateMachine = new StateMachine(local.definition as unknown as StateMachineDefinition, {
    validationOptions: { checkPaths: true, checkArn: true },
  });
  const execution = stateMachine.run(options.input as never, {
    overrides: {
      taskResourceLocalHandlers: taskResourceLocalHandlers as never,
      ...(options.retryIntervalOverrides
        ? { retryIntervalOverrides: options.retryIntervalOverrides as Record<string, number | number[]> }
        : {}),
    },
    context: {
      Execution: {
        Id: executionArn,
        Name: executionName,
        Input: options.input as never,
        StartTime: new Date().toISOString(),
        RoleArn: 'arn:aws:iam::000000000000:role/local',
      },
      StateMachine: { Id: stateMachineArn, Name: LOCAL_STATE_MACHINE_NAME },
    },
  });

  const forwarding = forwardEvents(execution.eventLogs as AsyncIterable<WorkflowEvent>, options.onEvent);
  try {
    const output = await execution.result;
    return { status: 'SUCCEEDED', executionName, output };
  } catch (error) {
    if (error instanceof ExecutionError && error.cause instanceof Error) {
      return { status: 'FAILED', executionName, error: error.cause.name, cause: error.cause.message };
    }
    throw error;
  } finally {
    await forwarding;
  }
}

async function forwardEvents(events: AsyncIterable<WorkflowEvent>, onEvent?: (event: WorkflowEvent) => void) {
  for await (const event of events) onEvent?.(event);
}
