import { MAX_EXECUTION_HISTORY_EVENTS } from '../lambdas/contracts/limits';

/**
 * How a state appears in an execution's history: Step Functions records different events for
 * a Lambda function task, a request-response or `.sync` service task, an inline or a
 * distributed Map, and so on.
 */
export type StateKind =
  | 'pass'
  | 'choice'
  | 'wait'
  | 'succeed'
  | 'fail'
  | 'parallel'
  | 'inlineMap'
  | 'distributedMap'
  /** `Resource` is the function's ARN. */
  | 'lambdaFunction'
  /** `arn:aws:states:::lambda:invoke` and other request-response integrations (events:putEvents, …). */
  | 'serviceTask'
  /** `.sync` and `.sync:2` integrations (states:startExecution.sync:2, …). */
  | 'syncTask';

interface KindEvents {
  /** When the state is entered. */
  readonly entered: readonly string[];
  /** Each try of the state's work: the first and every retry. */
  readonly attempt: readonly string[];
  /** A `.sync` integration once the job has been started. */
  readonly submitted?: readonly string[];
  readonly succeeded: readonly string[];
  readonly failed: readonly string[];
  /** The state's own TimeoutSeconds elapsed. */
  readonly timedOut?: readonly string[];
  /** When the state is left: after success, or after a Catch matched. */
  readonly exited: readonly string[];
  /** Each iteration of an inline Map (its states' events come in between). */
  readonly iteration?: { readonly started: string; readonly succeeded: string; readonly failed: string };
}

/*
 * The history events Step Functions records, per kind of state. Event type names are those of
 * the Step Functions API (HistoryEvent.type, API Reference); which ones a state writes, and in
 * which order, follows histories recorded against AWS (GetExecutionHistory of a Lambda task that
 * succeeds, fails uncaught, and fails caught; of events:putEvents; of startExecution and .sync
 * tasks, whose TaskSubmitted follows a successful start) and the Developer Guide's "Map Run"
 * pages (a Distributed Map writes MapRunStarted and MapRunSucceeded/MapRunFailed in the parent;
 * its child executions have histories of their own). A retried Task writes a new
 * Scheduled/Started/(Succeeded|Failed) triple per attempt and no event of its own; a caught
 * failure is followed by the state's Exited event; an uncaught one by ExecutionFailed (or, in
 * an iteration, MapIterationFailed). A Fail state writes no Exited event.
 */
const HISTORY_EVENTS: Readonly<Record<StateKind, KindEvents>> = {
  pass: {
    entered: ['PassStateEntered'],
    attempt: [],
    succeeded: [],
    failed: [],
    exited: ['PassStateExited'],
  },
  choice: {
    entered: ['ChoiceStateEntered'],
    attempt: [],
    succeeded: [],
    failed: [],
    exited: ['ChoiceStateExited'],
  },
  wait: {
    entered: ['WaitStateEntered'],
    attempt: [],
    succeeded: [],
    failed: [],
    exited: ['WaitStateExited'],
  },
  succeed: {
    entered: ['SucceedStateEntered'],
    attempt: [],
    succeeded: [],
    failed: [],
    exited: ['SucceedStateExited'],
  },
  fail: { entered: ['FailStateEntered'], attempt: [], succeeded: [], failed: [], exited: [] },
  parallel: {
    entered: ['ParallelStateEntered'],
    attempt: ['ParallelStateStarted'],
    succeeded: ['ParallelStateSucceeded'],
    failed: ['ParallelStateFailed'],
    exited: ['ParallelStateExited'],
  },
  inlineMap: {
    entered: ['MapStateEntered'],
    attempt: ['MapStateStarted'],
    succeeded: ['MapStateSucceeded'],
    failed: ['MapStateFailed'],
    exited: ['MapStateExited'],
    iteration: {
      started: 'MapIterationStarted',
      succeeded: 'MapIterationSucceeded',
      failed: 'MapIterationFailed',
    },
  },
  distributedMap: {
    entered: ['MapStateEntered'],
    attempt: ['MapStateStarted', 'MapRunStarted'],
    succeeded: ['MapRunSucceeded', 'MapStateSucceeded'],
    failed: ['MapRunFailed', 'MapStateFailed'],
    exited: ['MapStateExited'],
  },
  lambdaFunction: {
    entered: ['TaskStateEntered'],
    attempt: ['LambdaFunctionScheduled', 'LambdaFunctionStarted'],
    succeeded: ['LambdaFunctionSucceeded'],
    failed: ['LambdaFunctionFailed'],
    timedOut: ['LambdaFunctionTimedOut'],
    exited: ['TaskStateExited'],
  },
  serviceTask: {
    entered: ['TaskStateEntered'],
    attempt: ['TaskScheduled', 'TaskStarted'],
    succeeded: ['TaskSucceeded'],
    failed: ['TaskFailed'],
    timedOut: ['TaskTimedOut'],
    exited: ['TaskStateExited'],
  },
  syncTask: {
    entered: ['TaskStateEntered'],
    attempt: ['TaskScheduled', 'TaskStarted'],
    submitted: ['TaskSubmitted'],
    succeeded: ['TaskSucceeded'],
    failed: ['TaskFailed'],
    timedOut: ['TaskTimedOut'],
    exited: ['TaskStateExited'],
  },
};

/**
 * The kinds whose attempts the engine runs itself (it records their attempt events as they
 * happen). A Distributed Map's run is an inline Map of the executor's whose iterations stay out of
 * the history, so its events follow the executor's Map events.
 */
const ENGINE_RUN: ReadonlySet<StateKind> = new Set(['lambdaFunction', 'serviceTask', 'syncTask']);

/** The part of an aws-local-stepfunctions event log entry the history is derived from. */
export interface ExecutorEvent {
  readonly type: string;
  readonly state?: { readonly name: string };
  readonly parentState?: { readonly name: string };
  readonly Error?: string;
}

export interface HistorySummary {
  /** Events in the execution's history, as GetExecutionHistory would list them. */
  readonly events: number;
  readonly byType: Readonly<Record<string, number>>;
}

/**
 * Counts an execution's history events the way Step Functions writes them, and enforces the
 * quota: when 24,999 events are written, event 25,000 is ExecutionSucceeded if that is what
 * comes next, and otherwise ExecutionFailed with States.Runtime (`onLimit` is called).
 */
export class ExecutionHistory {
  private total = 0;
  private readonly counts: Record<string, number> = {};
  private ended = false;
  /** Catches matched per state name whose Exited event is still to come. */
  private readonly caught = new Map<string, number>();

  constructor(
    private readonly kindOf: (stateName: string) => StateKind,
    private readonly onLimit: () => void,
    private readonly limit = MAX_EXECUTION_HISTORY_EVENTS,
  ) {}

  /** Whether the history is closed: the execution ended, or reached the limit. */
  get closed(): boolean {
    return this.ended;
  }

  summary(): HistorySummary {
    return { events: this.total, byType: { ...this.counts } };
  }

  /** Writes events in order; false once the history is closed. */
  record(...types: readonly string[]): boolean {
    for (const type of types) {
      if (this.ended) return false;
      if (this.total === this.limit - 1 && type !== 'ExecutionSucceeded') {
        this.add('ExecutionFailed');
        this.ended = true;
        this.onLimit();
        return false;
      }
      this.add(type);
      if (type.startsWith('Execution') && type !== 'ExecutionStarted') this.ended = true;
    }
    return true;
  }

  /** Events of a state the engine runs itself (a task attempt, a map run). */
  recordState(
    stateName: string,
    phase: 'attempt' | 'submitted' | 'succeeded' | 'failed' | 'timedOut',
  ): boolean {
    const events = HISTORY_EVENTS[this.kindOf(stateName)];
    return this.record(...(events[phase] ?? (phase === 'timedOut' ? events.failed : [])));
  }

  /** Translates one event of the local executor's log into the events AWS writes for it. */
  observe(event: ExecutorEvent): void {
    switch (event.type) {
      case 'ExecutionStarted':
      case 'ExecutionSucceeded':
      case 'ExecutionFailed':
        this.record(event.type);
        return;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const iteration = event.parentState && HISTORY_EVENTS[this.kindOf(event.parentState.name)].iteration;
        if (iteration) this.record(iteration[ITERATION_PHASE[event.type]]);
        return;
      }
    }
    const name = event.state?.name;
    if (name === undefined) return;
    const kind = this.kindOf(name);
    const events = HISTORY_EVENTS[kind];
    const engineRun = ENGINE_RUN.has(kind);
    switch (event.type) {
      case 'StateEntered':
        this.record(...events.entered, ...(engineRun ? [] : events.attempt));
        return;
      case 'StateRetried':
        if (!engineRun) this.record(...events.attempt);
        return;
      case 'StateFailed':
        // The executor times a Task's own TimeoutSeconds; the engine records the attempt's other ends.
        if (!engineRun) this.record(...events.failed);
        else if (event.Error === 'States.Timeout') this.record(...(events.timedOut ?? events.failed));
        return;
      case 'StateCaught':
        this.caught.set(name, (this.caught.get(name) ?? 0) + 1);
        return;
      case 'StateExited': {
        const caught = this.caught.get(name) ?? 0;
        if (caught > 0) this.caught.set(name, caught - 1);
        this.record(...(engineRun || caught > 0 ? [] : events.succeeded), ...events.exited);
        return;
      }
    }
  }

  private add(type: string): void {
    this.total++;
    this.counts[type] = (this.counts[type] ?? 0) + 1;
  }
}

const ITERATION_PHASE = {
  MapIterationStarted: 'started',
  MapIterationSucceeded: 'succeeded',
  MapIterationFailed: 'failed',
} as const;

/** The kind of a state, from its definition. */
export function stateKind(state: { readonly Type: string; readonly [key: string]: unknown }): StateKind {
  switch (state.Type) {
    case 'Pass':
      return 'pass';
    case 'Choice':
      return 'choice';
    case 'Wait':
      return 'wait';
    case 'Succeed':
      return 'succeed';
    case 'Fail':
      return 'fail';
    case 'Parallel':
      return 'parallel';
    case 'Map':
      return isDistributedMap(state) ? 'distributedMap' : 'inlineMap';
    case 'Task': {
      const resource = String(state.Resource ?? '');
      if (/^arn:aws[a-z-]*:lambda:/.test(resource)) return 'lambdaFunction';
      if (/\.sync(:\d+)?$/.test(resource)) return 'syncTask';
      return 'serviceTask';
    }
    default:
      throw new Error(`unknown state type ${state.Type}`);
  }
}

/** A Map whose ItemProcessor runs in DISTRIBUTED mode (child executions). */
export function isDistributedMap(state: { readonly [key: string]: unknown }): boolean {
  const processor = state.ItemProcessor as { ProcessorConfig?: { Mode?: unknown } } | undefined;
  return processor?.ProcessorConfig?.Mode === 'DISTRIBUTED';
}
