import './polyfills';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { MAX_DISTRIBUTED_MAP_CONCURRENCY } from '../lambdas/contracts/limits';
import { isDistributedMap, type StateKind, stateKind } from './history';
import type { AslDefinition, AslState } from './stack';
import { isValidated, markValidated } from './validated';

/** The longest timer Node.js runs in one go (setTimeout's 32-bit limit), in seconds. */
export const MAX_TIMER_SECONDS = Math.floor(2 ** 31 / 1000) - 1;

/** The Resource of the engine's stand-in for one child execution of a Distributed Map. */
export const CHILD_EXECUTION_RESOURCE = 'arn:aws:states:::local:childExecution';

/** A definition made ready for aws-local-stepfunctions, with what the engine models itself kept aside. */
export interface PreparedDefinition {
  /** What the local executor runs. */
  readonly executor: StateMachineDefinition;
  /** Every state of the original definition by name (Map iterations and Parallel branches included). */
  readonly states: ReadonlyMap<string, AslState>;
  readonly kinds: ReadonlyMap<string, StateKind | 'internal'>;
  /** The definition's TimeoutSeconds, which the engine enforces. */
  readonly timeoutSeconds?: number;
  /** The engine's child-execution task of each Distributed Map → the Map state's name. */
  readonly distributedMaps: ReadonlyMap<string, string>;
}

/** What a Distributed Map's iteration hands its child-execution task. */
export interface MapIterationInput {
  readonly item: unknown;
  readonly index: number;
  readonly total: number;
  readonly toleratedCount?: number;
  readonly toleratedPercentage?: number;
}

const prepared = new WeakMap<object, PreparedDefinition>();

/**
 * Prepares a definition once (cached by identity). The original is validated as the local
 * executor validates definitions. Then, where aws-local-stepfunctions 3.0.0 differs from AWS:
 * - it gives a Task without TimeoutSeconds 60 seconds (AWS: 99,999,999): such a Task gets the
 *   longest timer instead (a Task's own TimeoutSeconds stays with the executor, whose
 *   States.Timeout is the one States.TaskFailed does not match);
 * - it cannot time a definition's TimeoutSeconds beyond 24.8 days: the engine times it;
 * - it runs every Map inline, Distributed ones too, in the parent's history with at most 40
 *   iterations at a time and no tolerated failures: a Distributed Map becomes an inline Map
 *   whose single state starts one child execution per item (ItemsPath, ItemSelector and
 *   MaxConcurrency still evaluated by the executor, with the context AWS gives them).
 */
/**
 * Validates a definition as the local executor does, once per definition object; a definition
 * read from the synth cache was validated before it was written (definition-cache.ts).
 */
export function validateDefinition(definition: AslDefinition): void {
  if (isValidated(definition)) return;
  // On a copy: the validator writes its schema's defaults (QueryLanguage) into what it checks.
  new StateMachine(structuredClone(definition) as unknown as StateMachineDefinition, {
    validationOptions: { checkPaths: true, checkArn: true },
  });
  markValidated(definition);
}

export function prepareDefinition(definition: AslDefinition): PreparedDefinition {
  const cached = prepared.get(definition);
  if (cached) return cached;
  validateDefinition(definition);
  const states = new Map<string, AslState>();
  const kinds = new Map<string, StateKind | 'internal'>();
  const distributedMaps = new Map<string, string>();

  const transform = (scope: AslDefinition): AslDefinition => ({
    ...scope,
    States: Object.fromEntries(
      Object.entries(scope.States).map(([name, state]) => {
        if (states.has(name)) throw new Error(`state name ${name} is used twice`);
        states.set(name, state);
        kinds.set(name, stateKind(state));
        return [name, transformState(name, state)];
      }),
    ),
  });

  const transformState = (name: string, state: AslState): AslState => {
    if (state.Type === 'Task') {
      const { HeartbeatSeconds: _h, HeartbeatSecondsPath: _p, ...task } = state;
      if (state.TimeoutSecondsPath !== undefined) return task;
      const seconds = typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : MAX_TIMER_SECONDS;
      return { ...task, TimeoutSeconds: Math.min(seconds, MAX_TIMER_SECONDS) };
    }
    if (state.Type === 'Parallel') {
      return { ...state, Branches: (state.Branches as AslDefinition[]).map((branch) => transform(branch)) };
    }
    if (state.Type !== 'Map') return state;
    if (!isDistributedMap(state)) {
      const iteration = (state.ItemProcessor ?? state.Iterator) as AslDefinition;
      const { Iterator: _i, ...map } = state;
      return { ...map, ItemProcessor: transform(iteration) };
    }
    const config = (state.ItemProcessor as { ProcessorConfig?: { ExecutionType?: unknown } }).ProcessorConfig;
    if (config?.ExecutionType !== 'STANDARD') {
      throw new Error(`Map state ${name}: only STANDARD child executions have a local stand-in`);
    }
    for (const unsupported of ['ItemReader', 'ItemBatcher', 'ResultWriter']) {
      if (state[unsupported] !== undefined)
        throw new Error(`Map state ${name}: ${unsupported} has no local stand-in`);
    }
    const task = `${name}#ChildExecution`;
    kinds.set(task, 'internal');
    distributedMaps.set(task, name);
    const {
      ItemProcessor: _processor,
      ItemSelector,
      Parameters,
      Label: _label,
      ToleratedFailureCount: _count,
      ToleratedFailureCountPath,
      ToleratedFailurePercentage: _percentage,
      ToleratedFailurePercentagePath,
      MaxConcurrency,
      ...map
    } = state;
    const selector = ItemSelector ?? Parameters;
    return {
      ...map,
      ...(state.MaxConcurrencyPath === undefined
        ? { MaxConcurrency: Number(MaxConcurrency) > 0 ? MaxConcurrency : MAX_DISTRIBUTED_MAP_CONCURRENCY }
        : {}),
      ItemSelector: {
        ...(selector === undefined ? { 'item.$': '$$.Map.Item.Value' } : { item: selector }),
        'index.$': '$$.Map.Item.Index',
        'total.$': `States.ArrayLength(${String(state.ItemsPath ?? '$')})`,
        ...(ToleratedFailureCountPath === undefined ? {} : { 'toleratedCount.$': ToleratedFailureCountPath }),
        ...(ToleratedFailurePercentagePath === undefined
          ? {}
          : { 'toleratedPercentage.$': ToleratedFailurePercentagePath }),
      },
      ItemProcessor: {
        StartAt: task,
        States: {
          [task]: {
            Type: 'Task',
            Resource: CHILD_EXECUTION_RESOURCE,
            TimeoutSeconds: MAX_TIMER_SECONDS,
            End: true,
          },
        },
      },
    };
  };

  const { TimeoutSeconds, ...root } = transform(definition);
  const result: PreparedDefinition = {
    executor: root as unknown as StateMachineDefinition,
    states,
    kinds,
    ...(typeof TimeoutSeconds === 'number' ? { timeoutSeconds: TimeoutSeconds } : {}),
    distributedMaps,
  };
  prepared.set(definition, result);
  return result;
}
