import { randomUUID } from 'node:crypto';
import { StatesError, serviceError, toleratedFailureExceeded } from './aws-errors';
import type { ExecutionRecord, ExecutionScope, Runtime } from './execution';
import type { MapIterationInput } from './prepare';
import {
  type AslDefinition,
  type AslState,
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  type ServiceIntegration,
} from './stack';

/** The ARN of an execution of a state machine (or of a Distributed Map run's children). */
export function executionArn(stateMachineName: string, executionName: string): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${stateMachineName}:${executionName}`;
}

/**
 * `arn:aws:states:::states:startExecution` and its `.sync` and `.sync:2` patterns: starts the
 * named state machine of the stack as a child execution with its own history and limits. The
 * request-response pattern returns `{ExecutionArn, StartDate}` at once; `.sync` waits and returns
 * DescribeExecution's output (Input and Output as strings; `.sync:2` parses them as JSON). A child
 * that does not succeed fails the task with States.TaskFailed and that same output, as JSON, as
 * the cause. When the parent ends first, a `.sync` child is stopped with it.
 */
export async function startExecution(
  runtime: Runtime,
  scope: ExecutionScope,
  state: string,
  parameters: unknown,
  integration: Extract<ServiceIntegration, `states:${string}`>,
): Promise<unknown> {
  const { StateMachineArn, Input, Name } = (parameters ?? {}) as Record<string, unknown>;
  const arn = String(StateMachineArn);
  const machine = Object.values(runtime.stateMachines).find((candidate) => candidate.arn === arn);
  if (!machine) {
    throw serviceError(
      'StepFunctions',
      'StateMachineDoesNotExist',
      `State Machine Does Not Exist: '${arn}'`,
      400,
    );
  }
  let input: unknown = Input ?? {};
  if (typeof Input === 'string') {
    try {
      input = JSON.parse(Input);
    } catch {
      throw serviceError(
        'StepFunctions',
        'InvalidExecutionInput',
        'Invalid State Machine Execution Input',
        400,
      );
    }
  }
  const name = Name === undefined ? randomUUID() : String(Name);
  if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) {
    throw serviceError('StepFunctions', 'InvalidName', `Invalid Name: '${name}'`, 400);
  }
  const request = {
    definition: machine.definition,
    stateMachine: { name: machine.name, arn: machine.arn },
    executionName: name,
    executionArn: executionArn(machine.name, name),
    input,
    child: true,
  };
  if (integration === 'states:startExecution') {
    // Request-response: the child runs on by itself, whatever becomes of the parent.
    const started = Date.now();
    void scope.runChild(request, true).then((record) => scope.children.push(record));
    return { ExecutionArn: request.executionArn, StartDate: started };
  }
  scope.history.recordState(state, 'submitted');
  const record = await scope.runChild({ ...request, signal: scope.signal });
  scope.children.push(record);
  const described = describeExecution(record, integration === 'states:startExecution.sync:2');
  if (record.status !== 'SUCCEEDED') throw new StatesError('States.TaskFailed', JSON.stringify(described));
  return described;
}

/** DescribeExecution's output as a `.sync` integration returns it (dates in epoch milliseconds). */
function describeExecution(record: ExecutionRecord, json: boolean): Record<string, unknown> {
  const data = (value: unknown) => (json ? value : JSON.stringify(value));
  return {
    ExecutionArn: record.executionArn,
    Input: data(record.input),
    InputDetails: { Included: true },
    Name: record.executionName,
    ...(record.status === 'SUCCEEDED'
      ? { Output: data(record.output), OutputDetails: { Included: true } }
      : {}),
    ...(record.status === 'FAILED' ? { Error: record.error, Cause: record.cause } : {}),
    RedriveCount: 0,
    RedriveStatus: record.status === 'SUCCEEDED' ? 'NOT_REDRIVABLE' : 'REDRIVABLE',
    StartDate: record.startDate.getTime(),
    StateMachineArn: record.stateMachineArn,
    Status: record.status,
    StopDate: record.stopDate.getTime(),
  };
}

/** One Distributed Map run: its children still running, and the failures so far. */
interface MapRun {
  failed: number;
  exceeded: boolean;
  readonly running: Set<AbortController>;
}

const mapRuns = new WeakMap<ExecutionScope, Map<string, MapRun>>();
const itemProcessors = new WeakMap<object, AslDefinition>();

/** Starts a new run of a Distributed Map (its state was entered). */
export function startMapRun(scope: ExecutionScope, mapName: string): void {
  const runs = mapRuns.get(scope) ?? new Map<string, MapRun>();
  mapRuns.set(scope, runs);
  runs.set(mapName, { failed: 0, exceeded: false, running: new Set() });
}

/**
 * One item of a Distributed Map (ExecutionType STANDARD): a child execution of the Map's
 * ItemProcessor with its own history, named `<state machine>/<label>:<uuid>`. A child that does
 * not succeed counts against ToleratedFailureCount/ToleratedFailurePercentage (none tolerated
 * when neither is set); past them the Map fails with States.ExceedToleratedFailureThreshold and
 * the children still running are stopped. A tolerated failure stands in the Map's result as the
 * child's execution record (Status, Error, Cause, …), a success as the child's output.
 */
export async function runMapChild(
  scope: ExecutionScope,
  mapName: string,
  map: AslState,
  iteration: MapIterationInput,
): Promise<unknown> {
  const runs = mapRuns.get(scope);
  const run = runs?.get(mapName);
  if (!run) throw new Error(`Distributed Map ${mapName} ran before it was entered`);
  if (run.exceeded) throw toleratedFailureExceeded();
  const label = typeof map.Label === 'string' ? map.Label : mapName;
  const machineName = `${scope.request.stateMachine.name}/${label}`;
  const name = randomUUID();
  const controller = new AbortController();
  const stop = () => controller.abort();
  scope.signal.addEventListener('abort', stop, { once: true });
  run.running.add(controller);
  let record: ExecutionRecord;
  try {
    record = await scope.runChild({
      definition: itemProcessorOf(map),
      stateMachine: { name: machineName, arn: `${scope.request.stateMachine.arn}/${label}` },
      executionName: name,
      executionArn: executionArn(machineName, name),
      input: iteration.item,
      signal: controller.signal,
      child: true,
    });
  } finally {
    run.running.delete(controller);
    scope.signal.removeEventListener('abort', stop);
  }
  scope.children.push(record);
  if (record.status === 'SUCCEEDED') return record.output;
  if (run.exceeded) throw toleratedFailureExceeded();
  run.failed++;
  if (exceedsTolerance(map, iteration, run.failed)) {
    run.exceeded = true;
    for (const running of run.running) running.abort();
    throw toleratedFailureExceeded();
  }
  return {
    ExecutionArn: record.executionArn,
    Input: JSON.stringify(record.input),
    InputDetails: { Included: true },
    Name: record.executionName,
    StartDate: record.startDate.toISOString(),
    StateMachineArn: record.stateMachineArn,
    Status: record.status,
    StopDate: record.stopDate.toISOString(),
    ...(record.status === 'FAILED' ? { Error: record.error, Cause: record.cause } : {}),
  };
}

function exceedsTolerance(map: AslState, iteration: MapIterationInput, failed: number): boolean {
  const count =
    typeof map.ToleratedFailureCount === 'number' ? map.ToleratedFailureCount : iteration.toleratedCount;
  const percentage =
    typeof map.ToleratedFailurePercentage === 'number'
      ? map.ToleratedFailurePercentage
      : iteration.toleratedPercentage;
  if (count === undefined && percentage === undefined) return true;
  if (count !== undefined && failed > count) return true;
  return percentage !== undefined && iteration.total > 0 && (failed / iteration.total) * 100 > percentage;
}

/** The Map's ItemProcessor as a state machine definition of its own (one per Map state). */
function itemProcessorOf(map: AslState): AslDefinition {
  const processor = map.ItemProcessor as AslDefinition & { ProcessorConfig?: unknown };
  const cached = itemProcessors.get(processor);
  if (cached) return cached;
  const { ProcessorConfig: _config, ...definition } = processor;
  itemProcessors.set(processor, definition);
  return definition;
}
