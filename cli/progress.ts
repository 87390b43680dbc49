import type { ExportOutput } from '../lambdas/contracts/output';
import type { PceTrouble, SubmitRetryState, WorkflowState } from '../lambdas/contracts/state';
import type { TrafficRunStart, WindowState } from '../lambdas/contracts/traffic-run';
import { describeTrouble } from '../lambdas/export/pce-trouble';
import type { WorkflowEvent } from '../local/runner';
import type { CliIo } from './io';

const MIB = 1024 * 1024;

/** A byte count that grows while Fetch streams, and what it counts. */
export interface Transfer {
  /** Completes "12.0 MiB … so far", e.g. "written to S3". */
  readonly label: string;
  readonly bytes: () => number | Promise<number>;
}

interface ProgressOptions {
  readonly io: CliIo;
  /** Reported every interval while Fetch runs. @default nothing is reported */
  readonly transfer?: Transfer;
  /** @default 1000 */
  readonly intervalMs?: number;
}

/** Turns the execution's event log into human progress lines on stderr. */
export function createProgress(options: ProgressOptions) {
  const { io } = options;
  const started = Date.now();
  let ticker: NodeJS.Timeout | undefined;
  const say = (text: string) =>
    io.stderr(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${text}`);

  const stopTicker = () => {
    if (ticker) clearInterval(ticker);
    ticker = undefined;
  };
  const startTicker = () => {
    const { transfer } = options;
    if (!transfer) return;
    let last = -1;
    ticker = setInterval(() => {
      Promise.resolve(transfer.bytes()).then(
        (bytes) => {
          if (bytes > 0 && bytes !== last && ticker)
            say(`Fetch: ${(bytes / MIB).toFixed(1)} MiB ${transfer.label} so far`);
          last = bytes;
        },
        () => undefined,
      );
    }, options.intervalMs ?? 1000);
    ticker.unref();
  };

  const onEvent = (event: WorkflowEvent): void => {
    const name = event.state?.name;
    switch (event.type) {
      case 'StateEntered':
        if (event.state?.type === 'Task') say(`${name}: started`);
        if (name === 'Fetch') startTicker();
        break;
      case 'StateExited':
        describeExit(name, event.state?.output);
        if (name === 'Fetch') stopTicker();
        break;
      case 'StateFailed':
        stopTicker();
        say(`${name}: failed with ${event.Error}: ${causeText(event.Cause)}`);
        break;
      case 'StateRetried':
        say(`${name}: retrying (attempt ${event.retry?.attempt ?? '?'})`);
        break;
      case 'ExecutionSucceeded':
        say('Execution succeeded');
        break;
      case 'ExecutionFailed':
        stopTicker();
        say(`Execution failed: ${event.Error}`);
        break;
      default:
        break;
    }
  };

  /** A traffic run's step that could not reach the PCE and is called again after a wait. */
  function describeTrafficTrouble(name: string | undefined, output: unknown): boolean {
    const retrying = (who: string, trouble: PceTrouble, again: string, seconds: number) => {
      say(`${who}: ${describeTrouble(trouble)}; ${again} in ${seconds} s`);
      return true;
    };
    if (name === 'PlanTraffic') {
      const plan = (output as Partial<TrafficRunStart> | undefined)?.plan;
      return plan ? retrying('PlanTraffic', plan.unavailable, 'planning again', plan.waitSeconds) : false;
    }
    const state = output as Partial<WindowState> | undefined;
    const window = `Traffic window ${state?.window?.id ?? '?'}`;
    if (name === 'TrafficWindowSubmit' && state?.submit) {
      return retrying(window, state.submit.unavailable, 'submitting again', state.submit.waitSeconds);
    }
    const job = state?.job;
    if (name === 'TrafficWindowPoll' && job?.unavailable) {
      return retrying(`${window} poll ${job.polls}`, job.unavailable, 'polling again', job.waitSeconds);
    }
    if (name === 'TrafficWindowFetch' && job?.unavailable) {
      return retrying(window, job.unavailable, 'downloading again from the start', job.waitSeconds);
    }
    return false;
  }

  function describeExit(name: string | undefined, output: unknown): void {
    if (describeTrafficTrouble(name, output)) return;
    if (name === 'Submit' || name === 'RetrySubmit') {
      const retry = (output as Partial<SubmitRetryState> | undefined)?.submit;
      if (retry) {
        say(`Submit: ${describeTrouble(retry.unavailable)}; submitting again in ${retry.waitSeconds} s`);
        return;
      }
    }
    if (name === 'Fetch') {
      const job = (output as Partial<WorkflowState> | undefined)?.job;
      if (job?.unavailable) {
        say(
          `Fetch: ${describeTrouble(job.unavailable)}; downloading again from the start in ${job.waitSeconds} s`,
        );
        return;
      }
    }
    if (name === 'Submit' || name === 'RetrySubmit' || name === 'Poll') {
      const state = output as Partial<WorkflowState> | undefined;
      const job = state?.job;
      if (!job) return;
      if (name === 'Poll' && job.unavailable) {
        say(`Poll ${job.polls}: ${describeTrouble(job.unavailable)}; polling again in ${job.waitSeconds} s`);
      } else if (name !== 'Poll') {
        const what =
          state.export?.kind === 'traffic' ? 'traffic query' : `${state.export?.path} accepted as job`;
        say(`Submit: ${what} ${job.href}; first poll in ${job.waitSeconds} s`);
      } else if (job.status === 'done' || job.status === 'failed' || job.timedOut) {
        say(`Poll ${job.polls}: job ${job.timedOut && job.status !== 'done' ? 'timed out' : job.status}`);
      } else {
        say(`Poll ${job.polls}: job ${job.status}; next poll in ${job.waitSeconds} s`);
      }
    } else if (name === 'Fetch') {
      const result = output as Partial<ExportOutput> | undefined;
      if (result?.bytes === undefined) return;
      const count = result.objectCount === undefined ? '' : `, ${result.objectCount} objects`;
      say(`Fetch: stored ${(result.bytes / MIB).toFixed(1)} MiB${count} at ${result.uri}`);
    }
  }

  return { onEvent, stop: stopTicker };
}

/** Lambda errors arrive with the runtime's JSON as Cause; show the message only. */
export function causeText(cause: unknown): string {
  if (typeof cause !== 'string') return String(cause ?? '');
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: the cause is already a sentence
  }
  return cause;
}
