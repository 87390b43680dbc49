import './polyfills';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { MAX_STANDARD_EXECUTION_SECONDS, MAX_STATE_PAYLOAD_BYTES } from '../lambdas/contracts/limits';
import { historyLimitExceeded, inputTooLarge, resultTooLarge, type StatesError } from './aws-errors';
import { startMapRun } from './children';
import type { LocalEvents } from './events';
import type { LambdaFaults } from './faults';
import { ExecutionHistory, type ExecutorEvent, type HistorySummary } from './history';
import type { LambdaHandler } from './lambda';
import { type PreparedDefinition, prepareDefinition } from './prepare';
import type { AslDefinition, LocalFunction, LocalStateMachine } from './stack';
import { taskHandlers } from './tasks';

/** What happened in an execution, as the local executor reports it (a subset of its event log). */
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
  /** Set on the events of a child execution (a Distributed Map item, a startExecution task). */
  readonly execution?: { readonly name: string; readonly arn: string };
}

/** How an execution ended, as DescribeExecution reports its status. */
export type ExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** A finished execution. */
export interface ExecutionRecord {
  readonly executionName: string;
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly status: ExecutionStatus;
  readonly input: unknown;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
  readonly startDate: Date;
  readonly stopDate: Date;
  /** The execution's own history (a child's events are in the child's). */
  readonly history: HistorySummary;
  /** The child executions it started, in the order they ended. */
  readonly children: readonly ExecutionRecord[];
}

/** What every execution of one engine shares. */
export interface Runtime {
  readonly stateMachines: Readonly<Record<string, LocalStateMachine>>;
  /** By logical id. */
  readonly functions: Readonly<Record<string, LocalFunction>>;
  /** By handler module name. */
  readonly handlers: Readonly<Record<string, LambdaHandler>>;
  readonly events: LocalEvents;
  readonly lambdaFaults?: LambdaFaults;
  readonly onEvent?: (event: WorkflowEvent) => void;
  /** Milliseconds to pause before each retry, by state name, instead of the definition's backoff. */
  readonly retryIntervalOverrides?: Readonly<Record<string, number | readonly number[]>>;
  /** Milliseconds each Wait state pauses, by state name, instead of its seconds. */
  readonly waitTimeOverrides?: Readonly<Record<string, number>>;
}

export interface ExecutionRequest {
  readonly definition: AslDefinition;
  readonly stateMachine: { readonly name: string; readonly arn: string };
  readonly executionName: string;
  readonly executionArn: string;
  readonly input: unknown;
  /** Stops the execution (status ABORTED), as StopExecution or a stopping parent does. */
  readonly signal?: AbortSignal;
  /** A child execution: its events are reported with its name and ARN. */
  readonly child?: boolean;
}

/** One running execution, as its tasks see it. */
export interface ExecutionScope {
  readonly request: ExecutionRequest;
  readonly prepared: PreparedDefinition;
  readonly history: ExecutionHistory;
  readonly children: ExecutionRecord[];
  /** Aborted once the execution has ended or is ending. */
  readonly signal: AbortSignal;
  /** The execution context's `$$.Execution.StartTime`. */
  readonly startDate: Date;
  /** Runs a child execution; one that is not `detached` ends before its parent does. */
  runChild(request: ExecutionRequest, detached?: boolean): Promise<ExecutionRecord>;
}

interface Ending {
  readonly status: Exclude<ExecutionStatus, 'SUCCEEDED'>;
  readonly error: string;
  readonly cause: string;
}

/**
 * Runs one execution of a definition with aws-local-stepfunctions, modelling what AWS enforces
 * and the executor does not: the history quota (counted as AWS writes events), the payload
 * quota on every state's input and output, the definition's TimeoutSeconds, each Task's
 * TimeoutSeconds and each function's timeout, child executions (startExecution tasks and
 * Distributed Map items, each with a history and limits of its own) and StopExecution.
 */
export async function runExecution(runtime: Runtime, request: ExecutionRequest): Promise<ExecutionRecord> {
  const prepared = prepareDefinition(request.definition);
  const startDate = new Date();
  const stopping = new AbortController();
  let ending: Ending | undefined;
  let abortExecutor = () => {};
  const stop = (next: Ending) => {
    ending = next;
    stopping.abort();
    abortExecutor();
  };
  /** Ends the execution with its last history event, unless it has ended already. */
  const end = (next: Ending, event: string) => {
    if (!ending && history.record(event)) stop(next);
  };
  const fail = (error: StatesError) =>
    end({ status: 'FAILED', error: error.name, cause: error.message }, 'ExecutionFailed');

  const attached = new Set<Promise<ExecutionRecord>>();
  const history = new ExecutionHistory(
    (name) => {
      const kind = prepared.kinds.get(name) ?? 'internal';
      return kind === 'internal' ? 'pass' : kind;
    },
    () => {
      const error = historyLimitExceeded();
      if (!ending) stop({ status: 'FAILED', error: error.name, cause: error.message });
    },
  );
  const scope: ExecutionScope = {
    request,
    prepared,
    history,
    children: [],
    signal: stopping.signal,
    startDate,
    runChild: (child, detached = false) => {
      const running = runExecution(runtime, child);
      if (!detached) {
        attached.add(running);
        void running.finally(() => attached.delete(running));
      }
      return running;
    },
  };

  const observe = (event: ExecutorEvent & { state?: { input?: unknown; output?: unknown } }) => {
    const name = event.state?.name ?? event.parentState?.name;
    if (name !== undefined && isHidden(prepared, name, event)) return;
    history.observe(event);
    const kind = name === undefined ? undefined : prepared.kinds.get(name);
    if (kind === 'distributedMap' && (event.type === 'StateEntered' || event.type === 'StateRetried')) {
      startMapRun(scope, String(name));
    }
    if (event.type === 'StateEntered' && oversized(event.state?.input)) fail(inputTooLarge(String(name)));
    if (event.type === 'StateExited' && oversized(event.state?.output)) fail(resultTooLarge(String(name)));
  };

  const executor = new StateMachine(prepared.executor, { validationOptions: { noValidate: true } });
  observeEvents(executor, observe);
  const timer =
    prepared.timeoutSeconds === undefined
      ? undefined
      : longTimer(Math.min(prepared.timeoutSeconds, MAX_STANDARD_EXECUTION_SECONDS) * 1000, () =>
          end({ status: 'TIMED_OUT', error: 'States.Timeout', cause: '' }, 'ExecutionTimedOut'),
        );
  const onStop = () => end({ status: 'ABORTED', error: '', cause: '' }, 'ExecutionAborted');
  request.signal?.addEventListener('abort', onStop, { once: true });

  const execution = executor.run(request.input as never, {
    overrides: {
      taskResourceLocalHandlers: taskHandlers(runtime, scope) as never,
      ...(runtime.retryIntervalOverrides
        ? { retryIntervalOverrides: runtime.retryIntervalOverrides as Record<string, number | number[]> }
        : {}),
      ...(runtime.waitTimeOverrides ? { waitTimeOverrides: { ...runtime.waitTimeOverrides } } : {}),
    },
    context: {
      Execution: {
        Id: request.executionArn,
        Name: request.executionName,
        Input: request.input as never,
        StartTime: startDate.toISOString(),
        RoleArn: 'arn:aws:iam::000000000000:role/local',
      },
      StateMachine: { Id: request.stateMachine.arn, Name: request.stateMachine.name },
    },
  });
  abortExecutor = () => execution.abort();
  if (ending || request.signal?.aborted) {
    onStop();
    execution.abort();
  }
  const forwarding = forwardEvents(execution.eventLogs as AsyncIterable<WorkflowEvent>, runtime, scope);

  let output: unknown;
  try {
    output = await execution.result;
  } catch (error) {
    // Once the engine has ended the execution, whatever the executor says next is moot.
    if (!ending) {
      if (!(error instanceof ExecutionError && error.cause instanceof Error)) throw error;
      ending = { status: 'FAILED', error: error.cause.name, cause: error.cause.message };
    }
  } finally {
    timer?.clear();
    request.signal?.removeEventListener('abort', onStop);
    stopping.abort();
    await forwarding;
    // Children the execution waited for are stopped with it; their records are part of its own.
    await Promise.allSettled([...attached]);
  }
  const common = {
    executionName: request.executionName,
    executionArn: request.executionArn,
    stateMachineArn: request.stateMachine.arn,
    input: request.input,
    startDate,
    stopDate: new Date(),
    history: history.summary(),
    children: scope.children,
  };
  const ended = ending as Ending | undefined;
  return ended ? { ...common, ...ended } : { ...common, status: 'SUCCEEDED', output };
}

function oversized(value: unknown): boolean {
  return value !== undefined && Buffer.byteLength(JSON.stringify(value)) > MAX_STATE_PAYLOAD_BYTES;
}

/** The engine's own states, and the iterations of a Distributed Map, are no part of the history. */
function isHidden(prepared: PreparedDefinition, name: string, event: ExecutorEvent): boolean {
  if (prepared.kinds.get(name) === 'internal') return true;
  return event.type.startsWith('MapIteration') && prepared.kinds.get(name) === 'distributedMap';
}

/**
 * aws-local-stepfunctions 3.0.0 writes its event log through an EventLogger that its `run()` hands
 * to the (private) `execute()` method; Map iterations forward their events to the same logger. The
 * engine wraps that logger's `dispatch` to see each event as it is written, which is when AWS
 * would write the corresponding history events.
 */
function observeEvents(executor: StateMachine, observe: (event: ExecutorEvent) => void): void {
  type Execute = (
    input: unknown,
    options: { eventLogger?: { dispatch(event: ExecutorEvent): void } },
    ...rest: unknown[]
  ) => unknown;
  const hooked = executor as unknown as { execute: Execute };
  const execute = hooked.execute.bind(executor);
  hooked.execute = (input, options, ...rest) => {
    const logger = options.eventLogger;
    if (!logger || typeof logger.dispatch !== 'function') {
      throw new Error(
        'aws-local-stepfunctions no longer hands an event logger to execute(); the engine cannot observe it',
      );
    }
    const dispatch = logger.dispatch.bind(logger);
    logger.dispatch = (event) => {
      observe(event);
      dispatch(event);
    };
    return execute(input, options, ...rest);
  };
}

async function forwardEvents(events: AsyncIterable<WorkflowEvent>, runtime: Runtime, scope: ExecutionScope) {
  const { request, prepared } = scope;
  for await (const event of events) {
    if (!runtime.onEvent) continue;
    const name = event.state?.name ?? (event as ExecutorEvent).parentState?.name;
    if (name !== undefined && isHidden(prepared, name, event)) continue;
    if (request.child && event.type.startsWith('Execution')) continue;
    const kind = name === undefined ? undefined : prepared.kinds.get(name);
    const state = event.state && kind === 'distributedMap' ? { ...event.state, type: 'Map' } : event.state;
    runtime.onEvent({
      ...event,
      ...(state ? { state } : {}),
      ...(request.child ? { execution: { name: request.executionName, arn: request.executionArn } } : {}),
    });
  }
}

/** A timer for any duration (setTimeout alone fires at once beyond 24.8 days). */
function longTimer(ms: number, fire: () => void): { clear(): void } {
  const due = Date.now() + ms;
  let handle: NodeJS.Timeout;
  const arm = () => {
    const left = due - Date.now();
    handle = setTimeout(left > 2 ** 31 - 1 ? arm : fire, Math.min(Math.max(left, 0), 2 ** 31 - 1));
  };
  arm();
  return { clear: () => clearTimeout(handle) };
}
