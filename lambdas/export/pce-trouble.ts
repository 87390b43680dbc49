import type { ExportError } from '../contracts/errors';
import type { PceRetries, PceTrouble, SubmitRetryState } from '../contracts/state';
import { PceRateLimited, PceUnavailable } from '../pce/errors';
import type { ExportLogger } from './logger';

/*
 * Transient PCE trouble: a 5xx, a 429, a reset or refused connection, a timeout (TLS handshakes
 * included), a DNS failure. Submit, Poll and Fetch do not fail on it: each hands the state back
 * with the trouble noted and a wait, the state machine waits (a Wait state, so the PCE's
 * Retry-After is honoured) and calls the step again. Permanent answers (401/403, other 4xx,
 * protocol errors, untrusted certificates) are never transient.
 *
 * The wait after the n-th failure in a row is the PCE's Retry-After, but at least a backoff that
 * starts at 5 s and doubles up to 60 s: a PCE restart of a few minutes costs a handful of
 * retries, whatever Retry-After it sends.
 */

const BACKOFF_FIRST_SECONDS = 5;
const BACKOFF_MAX_SECONDS = 60;

export const NO_RETRIES: PceRetries = { submit: 0, poll: 0, fetch: 0 };

/** The errors that go away by themselves. */
export function isTransientPceError(error: unknown): error is PceUnavailable | PceRateLimited {
  return error instanceof PceUnavailable || error instanceof PceRateLimited;
}

/** The transport's code (ECONNRESET, UND_ERR_HEADERS_TIMEOUT, …) in an error's cause chain. */
function transportCode(error: unknown): string | undefined {
  let value: unknown = (error as { cause?: unknown } | undefined)?.cause;
  for (let depth = 0; depth < 5 && value !== null && typeof value === 'object'; depth++) {
    const code = (value as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(code)) return code;
    value = (value as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The trouble a transient error is, continuing `previous` (the failures before it in a row). */
export function troubleOf(
  error: PceUnavailable | PceRateLimited,
  now: Date,
  previous?: PceTrouble,
): PceTrouble {
  const code = error.status === undefined ? transportCode(error) : undefined;
  return {
    error: error.name,
    ...(error.status === undefined ? {} : { status: error.status }),
    ...(code === undefined ? {} : { code }),
    message: error.message.slice(0, 2048),
    since: previous?.since ?? now.toISOString(),
    attempts: (previous?.attempts ?? 0) + 1,
  };
}

/** "PCE unavailable (503)", "PCE rate limited (429)", "PCE unavailable (ECONNRESET)". */
export function describeTrouble(trouble: Pick<PceTrouble, 'error' | 'status' | 'code'>): string {
  const what = trouble.error === 'PceRateLimited' ? 'PCE rate limited' : 'PCE unavailable';
  const detail = trouble.status ?? trouble.code;
  return detail === undefined ? what : `${what} (${detail})`;
}

/** Warns of `trouble` and what the step does `next`, with the trouble's fields and `attributes`. */
export function warnTrouble(
  logger: ExportLogger,
  trouble: PceTrouble,
  next: string,
  attributes: Record<string, unknown>,
): void {
  logger.warn(`${describeTrouble(trouble)}; ${next}`, {
    error: trouble.error,
    status: trouble.status,
    code: trouble.code,
    attempts: trouble.attempts,
    since: trouble.since,
    ...attributes,
  });
}

/**
 * Seconds to wait before trying again after the `attempts`-th failure in a row: the PCE's
 * Retry-After (already clamped by the client) or the backoff, whichever is longer, within
 * `maxSeconds`, and never below 1.
 */
export function troubleWaitSeconds(
  attempts: number,
  retryAfterSeconds: number | undefined,
  maxSeconds: number,
): number {
  const backoff = Math.min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** Math.max(0, attempts - 1));
  const asked = retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds) ? retryAfterSeconds : 0;
  return Math.max(1, Math.floor(Math.min(Math.max(backoff, asked), maxSeconds)));
}

/** The same error, its message saying why the step stopped trying. */
export function givenUp(error: PceUnavailable | PceRateLimited, why: string): ExportError {
  const details = {
    status: error.status,
    href: error.href,
    token: error.token,
    retryAfterSeconds: error.retryAfterSeconds,
    cause: error,
  };
  const message = `${error.message}; ${why}`;
  return error instanceof PceRateLimited
    ? new PceRateLimited(message, details)
    : new PceUnavailable(message, details);
}

/**
 * The next attempt after a submit the PCE did not take: within the retry window the first
 * attempt opened (`retryWindowSeconds` from `firstAttemptAt`), after the PCE's Retry-After or the
 * backoff, at most `capSeconds` (a deadline that comes first); once the window is over, the error
 * itself, saying what (`what`) the PCE has not taken.
 */
export function submitRetry(
  error: PceUnavailable | PceRateLimited,
  trouble: PceTrouble,
  options: {
    readonly previous: SubmitRetryState['submit'] | undefined;
    readonly firstAttemptAt: string;
    readonly retryWindowSeconds: number;
    readonly now: Date;
    readonly what: string;
    readonly capSeconds?: number;
  },
): SubmitRetryState['submit'] {
  const { previous, retryWindowSeconds, now } = options;
  const firstAttemptAt = previous?.firstAttemptAt ?? options.firstAttemptAt;
  const windowEndsAt =
    previous?.windowEndsAt ?? new Date(Date.parse(firstAttemptAt) + retryWindowSeconds * 1000).toISOString();
  const secondsLeft = (Date.parse(windowEndsAt) - now.getTime()) / 1000;
  if (secondsLeft < 1) {
    throw givenUp(
      error,
      `the PCE has not taken the ${options.what} since ${trouble.since} (${submitsOf(trouble)} within the ${retryWindowSeconds} s retry window)`,
    );
  }
  const waitSeconds = Math.min(
    troubleWaitSeconds(trouble.attempts, error.retryAfterSeconds, secondsLeft),
    Math.floor(secondsLeft),
    Math.floor(options.capSeconds ?? Number.POSITIVE_INFINITY),
  );
  return { attempts: trouble.attempts, firstAttemptAt, windowEndsAt, waitSeconds, unavailable: trouble };
}

/** "1 submit", "3 submits": the attempts of a trouble at submit. */
export function submitsOf(trouble: Pick<PceTrouble, 'attempts'>): string {
  return `${trouble.attempts} submit${trouble.attempts === 1 ? '' : 's'}`;
}
