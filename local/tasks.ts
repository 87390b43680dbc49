import { randomUUID } from 'node:crypto';
import { MAX_STATE_PAYLOAD_BYTES } from '../lambdas/contracts/limits';
import { inputTooLarge, StatesError } from './aws-errors';
import { runMapChild, startExecution } from './children';
import type { ExecutionScope, Runtime } from './execution';
import { asLambda } from './lambda';
import { CHILD_EXECUTION_RESOURCE, MAX_TIMER_SECONDS, type MapIterationInput } from './prepare';
import { type AslState, functionIdOf, type LocalFunction, serviceIntegrationOf } from './stack';

type TaskRun = (input: unknown) => Promise<unknown>;

/**
 * The local stand-in of every Task state of an execution, by state name: its Lambda function, its
 * service integration, or (for a Distributed Map) its child execution. Each attempt writes the
 * history events AWS writes for it, checks the task's input against the payload quota (after
 * Parameters) and ends at the Task's TimeoutSeconds with States.Timeout.
 */
export function taskHandlers(runtime: Runtime, scope: ExecutionScope): Record<string, TaskRun> {
  const handlers: Record<string, TaskRun> = {};
  for (const [name, mapName] of scope.prepared.distributedMaps) {
    const map = scope.prepared.states.get(mapName) as AslState;
    handlers[name] = (input) => {
      if (scope.signal.aborted) return Promise.reject(stopped());
      return runMapChild(scope, mapName, map, input as MapIterationInput);
    };
  }
  for (const [name, state] of scope.prepared.states) {
    if (state.Type !== 'Task') continue;
    const run = taskRun(runtime, scope, name, String(state.Resource));
    handlers[name] = (input) => attempt(scope, name, state, input, run);
  }
  return handlers;
}

function taskRun(runtime: Runtime, scope: ExecutionScope, state: string, resource: string): TaskRun {
  const { executionArn } = scope.request;
  const integration = serviceIntegrationOf(resource);
  switch (integration) {
    case 'events:putEvents':
      return (parameters) =>
        runtime.events.putEvents(parameters, {
          executionArn,
          stateMachineArn: scope.request.stateMachine.arn,
        });
    case 'lambda:invoke':
      return async (parameters) => {
        const { FunctionName, Payload } = (parameters ?? {}) as { FunctionName?: unknown; Payload?: unknown };
        const fn = functionNamed(runtime, String(FunctionName));
        const requestId = randomUUID();
        return {
          ExecutedVersion: '$LATEST',
          Payload: await invoke(runtime, fn, state, Payload),
          SdkHttpMetadata: { HttpHeaders: { 'x-amzn-RequestId': requestId }, HttpStatusCode: 200 },
          SdkResponseMetadata: { RequestId: requestId },
          StatusCode: 200,
        };
      };
    case 'states:startExecution':
    case 'states:startExecution.sync':
    case 'states:startExecution.sync:2':
      return (parameters) => startExecution(runtime, scope, state, parameters, integration);
    case undefined: {
      if (resource === CHILD_EXECUTION_RESOURCE) return () => Promise.reject(new Error('unreachable'));
      const id = functionIdOf(resource);
      const fn = id === undefined ? undefined : runtime.functions[id];
      if (!fn) throw new Error(`Task state ${state} calls ${resource}, which has no local handler`);
      return (payload) => invoke(runtime, fn, state, payload);
    }
  }
}

/** A function by ARN (with or without a qualifier), name or logical id. */
function functionNamed(runtime: Runtime, name: string): LocalFunction {
  const id = /:function:([^:]+)/.exec(name)?.[1] ?? name;
  const fn = runtime.functions[id];
  if (!fn) throw new StatesError('Lambda.ResourceNotFoundException', `Function not found: ${name}`);
  return fn;
}

function invoke(runtime: Runtime, fn: LocalFunction, state: string, payload: unknown): Promise<unknown> {
  const handler = runtime.handlers[fn.handler];
  if (!handler) throw new Error(`no handler loaded for ${fn.handler}`);
  const fault = runtime.lambdaFaults?.take({ functionId: fn.id, handler: fn.handler, state });
  return asLambda(fn.id, handler, {
    timeoutSeconds: fn.timeoutSeconds,
    memorySize: fn.memorySize,
    arn: fn.arn,
    ...(fault ? { fault } : {}),
  })(payload);
}

async function attempt(
  scope: ExecutionScope,
  name: string,
  state: AslState,
  input: unknown,
  run: TaskRun,
): Promise<unknown> {
  if (scope.signal.aborted) throw stopped();
  if (Buffer.byteLength(JSON.stringify(input ?? null)) > MAX_STATE_PAYLOAD_BYTES) throw inputTooLarge(name);
  if (!scope.history.recordState(name, 'attempt')) throw stopped();
  // The executor fails the attempt at the Task's TimeoutSeconds (and the history records it
  // then); whatever the attempt does afterwards is no longer part of the execution.
  let abandoned = false;
  const seconds = typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : undefined;
  const timer =
    seconds === undefined || seconds > MAX_TIMER_SECONDS
      ? undefined
      : setTimeout(() => {
          abandoned = true;
        }, seconds * 1000);
  try {
    const result = await run(input);
    if (!abandoned) scope.history.recordState(name, 'succeeded');
    return result;
  } catch (error) {
    if (!abandoned) scope.history.recordState(name, 'failed');
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** What a task attempt throws once its execution has ended (the executor is being stopped). */
function stopped(): StatesError {
  return new StatesError('States.Runtime', 'The execution has ended.', { terminal: true });
}
