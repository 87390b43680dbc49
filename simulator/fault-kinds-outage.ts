/**
 * What a PCE restart or upgrade looks like from outside, for minutes at a time: the front end
 * answering 502/503 while the application is down, connections reset or refused, a
 * maintenance page on every endpoint, a storm of 429s once it is back. Jobs keep their clock
 * through all of it: a job that was running finishes on time, as on a real PCE.
 *
 * These faults are usually given a {@link FaultWindow}. `outage`, `maintenance` and `refuse`
 * act in front of authentication and rate limiting (as the PCE's front end does); the others
 * after them.
 */
import type { FaultEndpoint, FaultSelector } from './fault-kinds';

/**
 * A time window, on the simulator's clock, during which a fault hits every matching call.
 * JSON-friendly, so the same object works in `pce-export simulate --faults FILE.json`.
 *
 * ```ts
 * // 45 s of 503 on polls, from 5 s after the first submit:
 * { kind: 'outage', endpoint: 'job', window: { from: { request: 'submit' }, afterMs: 5_000, forMs: 45_000 } }
 * ```
 */
export interface FaultWindow {
  /**
   * What `afterMs` counts from: `'start'` (the simulator started), `'now'` (the fault was
   * added), or `{ request, nth }`: the `nth` call (1-based, counted from when the fault was
   * added) to the `request` endpoint(s), which may differ from the endpoints the fault hits.
   * @default 'now'
   */
  readonly from?:
    | 'start'
    | 'now'
    | { readonly request: FaultEndpoint | readonly FaultEndpoint[]; readonly nth?: number };
  /** Milliseconds from `from` until the window opens. @default 0 */
  readonly afterMs?: number;
  /** Milliseconds it stays open (`Infinity`: until the fault is removed). */
  readonly forMs: number;
}

/** `Retry-After`: seconds, or an HTTP-date that many seconds after the response (on the system clock). */
export type RetryAfterValue = number | { readonly httpDateInSeconds: number };

/**
 * The PCE's front end answers while the application behind it is down. Default endpoint `'any'`.
 */
export interface OutageFault extends FaultSelector {
  readonly kind: 'outage';
  /** @default 503 */
  readonly status?: 502 | 503 | 504;
  /** @default none */
  readonly retryAfter?: RetryAfterValue;
  /**
   * `html`: the front end's own error page (`text/html`); `json`: a PCE `[{token, message}]`
   * body; `empty`: no body. @default 'html' for 502 and 504, 'json' for 503
   */
  readonly body?: 'html' | 'json' | 'empty';
}

/** Every endpoint answers 503 with a maintenance page. Default endpoint `'any'`. */
export interface MaintenanceFault extends FaultSelector {
  readonly kind: 'maintenance';
  /** @default none */
  readonly retryAfter?: RetryAfterValue;
  /** `html` (`text/html` maintenance page) or `json` (`[{token: 'maintenance', message}]`). @default 'html' */
  readonly body?: 'html' | 'json';
}

/**
 * The listener stops accepting for the window (connections are refused; open ones are cut),
 * then listens again on the same port. Needs a `window`; its endpoint only matters to a window
 * that starts from a request (that request is cut too).
 */
export interface RefuseFault extends FaultSelector {
  readonly kind: 'refuse';
}

/** `429 Too Many Requests` with the PCE's rate-limit body (a 429 storm). Default endpoint `'any'`. */
export interface ThrottleFault extends FaultSelector {
  readonly kind: 'throttle';
  /** @default none */
  readonly retryAfter?: RetryAfterValue;
}
