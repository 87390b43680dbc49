import type { AddressInfo } from 'node:net';
import { createServer, isIP, type Server, Socket } from 'node:net';
import type { SubmitRetryState, WorkflowState } from '../../lambdas/contracts/state';
import type { WorkflowEvent } from '../../local/runner';
import type { FaultEndpoint } from '../../simulator/faults';
import type { RecordedRequest } from '../../simulator/index';
import { type Harness, startHarness } from './harness';

/**
 * A harness for tests that are not about waiting: jobs take 100 ms, so a run is done at its first
 * poll, one real 1 s Retry-After after Submit.
 */
export function startQuickHarness(): Promise<Harness> {
  return startHarness({ jobDurationMs: 100 });
}

export { failed } from './harness';

/** Requests the simulator routed to `endpoint`. */
export function callsTo(requests: readonly RecordedRequest[], endpoint: FaultEndpoint): RecordedRequest[] {
  return requests.filter((r) => r.endpoint === endpoint);
}

/** Collects the execution's events; pass `events.push` as `onEvent`. */
export function eventLog(): { events: WorkflowEvent[]; onEvent: (event: WorkflowEvent) => void } {
  const events: WorkflowEvent[] = [];
  return { events, onEvent: (event) => events.push(event) };
}

/** Retries of the three Lambda tasks (Submit, Poll, Fetch) in an execution. */
export function taskRetries(events: readonly WorkflowEvent[]): number {
  return ['Submit', 'Poll', 'Fetch'].reduce((sum, state) => sum + retriesOf(events, state), 0);
}

/** How often each state was retried, from the StateRetried events. */
export function retriesOf(events: readonly WorkflowEvent[], state: string): number {
  return events.filter((e) => e.type === 'StateRetried' && e.state?.name === state).length;
}

/** The outputs of a state, from its StateExited events, oldest first. */
export function exitsOf(events: readonly WorkflowEvent[], state: string): Partial<WorkflowState>[] {
  return events
    .filter((e) => e.type === 'StateExited' && e.state?.name === state)
    .map((e) => (e.state?.output ?? {}) as Partial<WorkflowState>);
}

/** Submits made: the first (Submit) and those after a wait (RetrySubmit). */
export function submitAttempts(events: readonly WorkflowEvent[]): number {
  return events.filter(
    (e) => e.type === 'StateEntered' && (e.state?.name === 'Submit' || e.state?.name === 'RetrySubmit'),
  ).length;
}

/** The waits Submit asked for before submitting again, in seconds, oldest first. */
export function submitWaits(events: readonly WorkflowEvent[]): number[] {
  return events
    .filter(
      (e) => e.type === 'StateExited' && (e.state?.name === 'Submit' || e.state?.name === 'RetrySubmit'),
    )
    .flatMap((e) => {
      const retry = (e.state?.output as Partial<SubmitRetryState> | undefined)?.submit;
      return retry ? [retry.waitSeconds] : [];
    });
}

/** The Wait states entered (WaitForJob, WaitToSubmit, WaitToFetch), by name, oldest first. */
export function waitsEntered(events: readonly WorkflowEvent[]): string[] {
  return events
    .filter((e) => e.type === 'StateEntered' && /^(Snapshot)?Wait/.test(e.state?.name ?? ''))
    .map((e) => e.state?.name ?? '');
}

export interface ConnectAttempt {
  readonly host: string;
  readonly port: number;
}

export interface NetworkGuard {
  /** Every TCP connection this process attempted, oldest first. */
  readonly attempts: ConnectAttempt[];
  /** Attempts to anything but loopback: refused before a packet left, and recorded here. */
  readonly blocked: ConnectAttempt[];
  restore(): void;
}

const LOOPBACK_NAMES = new Set(['localhost', '::1', '[::1]']);

function isLoopback(host: string): boolean {
  if (LOOPBACK_NAMES.has(host)) return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/**
 * Watches every TCP connect of this process (undici's and the AWS SDK's both end in
 * `net.Socket#connect`) and refuses any to a non-loopback host, so that a test of a hostile href
 * can never send a packet to the address it names, even if the code under test were wrong.
 */
export function guardNetwork(): NetworkGuard {
  const attempts: ConnectAttempt[] = [];
  const blocked: ConnectAttempt[] = [];
  const original = Socket.prototype.connect;
  // biome-ignore lint/suspicious/noExplicitAny: the overloads of Socket#connect
  Socket.prototype.connect = function guardedConnect(this: Socket, ...args: any[]): Socket {
    // net.connect and tls.connect pass their normalised [options, callback] array as one argument.
    const first = Array.isArray(args[0]) ? args[0][0] : args[0];
    const options = typeof first === 'object' && first !== null ? (first as Record<string, unknown>) : {};
    if (typeof options.path === 'string') return original.apply(this, args as never);
    const host = String(typeof first === 'object' ? (options.host ?? 'localhost') : (args[1] ?? 'localhost'));
    const port = Number(typeof first === 'object' ? options.port : first);
    const attempt = { host, port };
    attempts.push(attempt);
    if (!isLoopback(host)) {
      blocked.push(attempt);
      const error = Object.assign(new Error(`test network guard: refused a connection to ${host}:${port}`), {
        code: 'ECONNREFUSED',
      });
      process.nextTick(() => this.destroy(error));
      return this;
    }
    return original.apply(this, args as never);
  };
  return {
    attempts,
    blocked,
    restore() {
      Socket.prototype.connect = original;
    },
  };
}

/** A TCP listener on another loopback address that counts the connections it is offered. */
export interface Elsewhere {
  readonly host: string;
  readonly port: number;
  connections(): number;
  close(): Promise<void>;
}

export async function listenElsewhere(host = '127.0.0.2'): Promise<Elsewhere> {
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    host,
    port,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
