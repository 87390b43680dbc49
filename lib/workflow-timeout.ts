import {
  FETCH_MAX_FAILED_DOWNLOADS,
  MAX_SNAPSHOT_MEMBERS,
  MAX_STANDARD_EXECUTION_SECONDS,
  MAX_TROUBLE_WAIT_SECONDS,
  MAX_WAIT_SECONDS_LIMIT,
} from '../lambdas/contracts/limits';
import { MAX_TRAFFIC_QUERIES } from '../lambdas/contracts/traffic';
import { ExportStorageError } from '../lambdas/export/errors';
import { NOTIFY_RETRIES, NOTIFY_TIMEOUT_SECONDS } from './events';

/*
 * The retries of the workflow's Lambda tasks, and the execution's time limit derived from them:
 * the state machine's TimeoutSeconds is the longest an execution the definition allows can take,
 * so that an execution that runs longer is stuck (and ends TIMED_OUT, which the alarm counts).
 * Transient PCE trouble is not retried by Step Functions but by the definition's Wait loops
 * (Submit within its retry window, Poll until the deadline, Fetch a bounded number of times),
 * in the traffic run (lib/traffic-fanout.ts) as in a single export: every wait ends by the
 * export's deadline, so the time limit is that deadline plus the bounded cost of the fixed steps.
 */

/** Step Functions gives up on a Lambda task this long after the function's own timeout. */
export const TASK_TIMEOUT_MARGIN_SECONDS = 30;

export interface RetryPolicy {
  readonly errors: readonly string[];
  readonly intervalSeconds: number;
  readonly backoffRate: number;
  readonly maxAttempts: number;
  readonly maxDelaySeconds?: number;
}

/** The Lambda service's own transient errors. */
const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.Unknown',
];

export const RETRIES = {
  storage: {
    errors: [ExportStorageError.errorName],
    intervalSeconds: 2,
    backoffRate: 2,
    maxAttempts: 3,
    maxDelaySeconds: 30,
  },
  lambdaService: { errors: LAMBDA_SERVICE_ERRORS, intervalSeconds: 1, backoffRate: 2, maxAttempts: 3 },
} as const satisfies Record<string, RetryPolicy>;

/** The longest all retries of a policy wait together (full jitter waits at most the delay). */
function retryDelaySeconds(policy: RetryPolicy): number {
  let total = 0;
  for (let attempt = 0; attempt < policy.maxAttempts; attempt++) {
    const delay = policy.intervalSeconds * policy.backoffRate ** attempt;
    total += Math.min(delay, policy.maxDelaySeconds ?? Number.POSITIVE_INFINITY);
  }
  return total;
}

/** The longest a task can take with all its attempts: each runs until the task's timeout. */
export function taskBoundSeconds(functionTimeoutSeconds: number, policies: readonly RetryPolicy[]): number {
  const attempts = 1 + policies.reduce((sum, policy) => sum + policy.maxAttempts, 0);
  const waits = policies.reduce((sum, policy) => sum + retryDelaySeconds(policy), 0);
  return attempts * (functionTimeoutSeconds + TASK_TIMEOUT_MARGIN_SECONDS) + waits;
}

/** The longest a notification can take: every attempt until its timeout, and the backoff between. */
function notifyBoundSeconds(): number {
  return taskBoundSeconds(NOTIFY_TIMEOUT_SECONDS - TASK_TIMEOUT_MARGIN_SECONDS, [
    { errors: ['States.ALL'], intervalSeconds: 1, backoffRate: 2, maxAttempts: NOTIFY_RETRIES },
  ]);
}

export interface ExecutionTimeoutInput {
  /** Each function's timeout, in seconds. */
  readonly functionTimeouts: {
    readonly submit: number;
    readonly poll: number;
    readonly fetch: number;
    readonly snapshot: number;
    /** The change history step after a single export's Fetch. @default none */
    readonly changes?: number;
  };
  readonly submitRetryWindowSeconds: number;
  readonly snapshotMaxConcurrency: number;
  /** The traffic run's functions (lib/traffic-fanout.ts) and how many windows run at once. */
  readonly traffic?: {
    readonly functionTimeouts: { readonly run: number; readonly window: number; readonly fetch: number };
    readonly windowConcurrency: number;
  };
}

/** The parts of the longest traffic run, each a bound in seconds (`trafficSeconds` adds them up). */
export function trafficParts(submitSeconds: number, traffic: NonNullable<ExecutionTimeoutInput['traffic']>) {
  const t = traffic.functionTimeouts;
  const stored = [RETRIES.storage, RETRIES.lambdaService];
  const runStep = taskBoundSeconds(t.run, stored);
  const windowStep = taskBoundSeconds(t.window, stored);
  const fetchStep = taskBoundSeconds(t.fetch, stored);
  return {
    /** Submit with its retry window, before the traffic run is planned. */
    submit: submitSeconds,
    /** Plan's first attempt: the run's deadline is fixed when it starts. */
    plan: runStep,
    /** Everything until the run's deadline: every wait for the PCE ends by it. */
    deadline: MAX_WAIT_SECONDS_LIMIT,
    /** A plan or split step still running at the deadline. */
    stepInFlight: runStep,
    /**
     * A window slot past the deadline: the window in it finishes the step in flight, the
     * download of a query done just before and the step that records an error; each window
     * still queued for the slot ends at its submit (the deadline has passed).
     */
    windowsAfterDeadline:
      2 * windowStep + fetchStep + Math.ceil(MAX_TRAFFIC_QUERIES / traffic.windowConcurrency) * windowStep,
    /** The split that ends the run, then its completion or its abort. */
    end: 2 * runStep,
  };
}

/** The longest traffic run: the sum of `trafficParts`. */
function trafficSeconds(
  submitSeconds: number,
  traffic: NonNullable<ExecutionTimeoutInput['traffic']>,
): number {
  return Object.values(trafficParts(submitSeconds, traffic)).reduce((sum, part) => sum + part, 0);
}

/**
 * The state machine's TimeoutSeconds: the longest of the longest single export, the longest
 * snapshot and the longest traffic run (each bounded by its deadline, MAX_WAIT_SECONDS_LIMIT at
 * most, plus its fixed steps; a bound past a Standard execution's year is a synth error). A single export: Submit's retry window ended by one last Submit with all its
 * retries, the job's longest wait (MAX_WAIT_SECONDS_LIMIT) ended by one last Poll with all its
 * retries, every download Fetch may make with all their retries and the longest waits between
 * them, the change history with all its retries, and one notification. A snapshot: its plan, its members in rounds of
 * `snapshotMaxConcurrency` (each as long as a single export), its manifest and its notification.
 */
export function executionTimeoutSeconds(input: ExecutionTimeoutInput): number {
  const t = input.functionTimeouts;
  const lambda = [RETRIES.lambdaService];
  const downloads = FETCH_MAX_FAILED_DOWNLOADS + 1;
  const submitSeconds = input.submitRetryWindowSeconds + taskBoundSeconds(t.submit, lambda);
  const exportSeconds =
    submitSeconds +
    MAX_WAIT_SECONDS_LIMIT +
    taskBoundSeconds(t.poll, lambda) +
    downloads * taskBoundSeconds(t.fetch, [RETRIES.storage, ...lambda]) +
    FETCH_MAX_FAILED_DOWNLOADS * MAX_TROUBLE_WAIT_SECONDS;
  const changes = t.changes === undefined ? 0 : taskBoundSeconds(t.changes, [RETRIES.storage, ...lambda]);
  const single = exportSeconds + changes + notifyBoundSeconds();
  const rounds = Math.ceil(MAX_SNAPSHOT_MEMBERS / input.snapshotMaxConcurrency);
  const snapshot =
    taskBoundSeconds(t.snapshot, lambda) +
    rounds * exportSeconds +
    taskBoundSeconds(t.snapshot, [RETRIES.storage, ...lambda]) +
    notifyBoundSeconds();
  const traffic =
    input.traffic === undefined ? 0 : trafficSeconds(submitSeconds, input.traffic) + notifyBoundSeconds();
  const longest = Math.max(single, snapshot, traffic);
  if (longest > MAX_STANDARD_EXECUTION_SECONDS) {
    throw new Error(
      `The longest execution the definition allows (${longest} s) is longer than a Standard execution may run (${MAX_STANDARD_EXECUTION_SECONDS} s)`,
    );
  }
  return longest;
}
