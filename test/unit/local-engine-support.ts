import { createLocalEvents, type LocalEvents } from '../../local/events';
import { LambdaFaults } from '../../local/faults';
import type { LambdaHandler } from '../../local/lambda';
import { type RunOutcome, runWorkflow } from '../../local/runner';
import type { AslDefinition, LocalDefinition, LocalFunction } from '../../local/stack';

/** A function of a hand-written stack: its handler is `handlers[name]`. */
export function fn(name: string, timeoutSeconds = 30): LocalFunction {
  return {
    id: name,
    arn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    handler: name,
    module: `test/${name}.ts`,
    timeoutSeconds,
    memorySize: 128,
    environment: {},
  };
}

/** The ARN a Task state uses to invoke `fn(name)`. */
export const lambda = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

/** A stack of hand-written state machines (the first is the one runs start by default). */
export function stack(
  machines: Readonly<Record<string, AslDefinition>>,
  functions: readonly LocalFunction[] = [],
): LocalDefinition {
  const stateMachines = Object.fromEntries(
    Object.entries(machines).map(([name, definition]) => [
      name,
      {
        name,
        arn: `arn:aws:states:us-east-1:000000000000:stateMachine:${name}`,
        path: `Test/${name}`,
        definition,
      },
    ]),
  );
  const [main] = Object.values(machines);
  if (!main) throw new Error('a stack needs a state machine');
  return {
    definition: main,
    taskHandlers: {},
    workflows: { '': { stateMachine: Object.keys(machines)[0] ?? '', identity: {} } },
    stateMachines,
    functions: Object.fromEntries(functions.map((f) => [f.id, f])),
  };
}

export interface TestRun {
  readonly events: LocalEvents;
  readonly lambdaFaults: LambdaFaults;
  run(input?: unknown, options?: { stateMachine?: string; signal?: AbortSignal }): Promise<RunOutcome>;
}

export function runner(
  local: LocalDefinition,
  handlers: Readonly<Record<string, LambdaHandler>> = {},
): TestRun {
  const events = createLocalEvents();
  const lambdaFaults = new LambdaFaults();
  const [first] = Object.keys(local.stateMachines);
  return {
    events,
    lambdaFaults,
    run: (input = {}, options = {}) =>
      runWorkflow({
        local,
        handlers,
        events,
        input,
        lambdaFaults,
        stateMachine: options.stateMachine ?? first,
        retryIntervalOverrides: new Proxy({}, { get: () => 0, has: () => true }),
        ...(options.signal ? { signal: options.signal } : {}),
      }),
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
