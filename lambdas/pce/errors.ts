import { ExportError } from '../contracts/errors';

/*
 * The errors of the PCE protocol, thrown by the PCE client. Each class's `name` (and static
 * `errorName`) is the state machine's error; see `lambdas/contracts/errors.ts`.
 */

/** 401 or 403 from the PCE: the API key is wrong, expired or lacks the permission. Not retried. */
export class PceAuthError extends ExportError {
  static readonly errorName = 'PceAuthError';
  override readonly name = PceAuthError.errorName;
}

/** Any other 4xx: a bad path or filter, a job that is gone. Not retried. */
export class PceRequestError extends ExportError {
  static readonly errorName = 'PceRequestError';
  override readonly name = PceRequestError.errorName;
}

/** 429 Too Many Requests, still after the client's own Retry-After waits. Retried by the state machine. */
export class PceRateLimited extends ExportError {
  static readonly errorName = 'PceRateLimited';
  override readonly name = PceRateLimited.errorName;
}

/** 5xx, timeouts, connection resets, DNS failures, a body cut off mid-stream. Retried. */
export class PceUnavailable extends ExportError {
  static readonly errorName = 'PceUnavailable';
  override readonly name = PceUnavailable.errorName;
}

/** A response outside the protocol: no or foreign Location, a bad href, bad JSON, an unknown status. */
export class PceProtocolError extends ExportError {
  static readonly errorName = 'PceProtocolError';
  override readonly name = PceProtocolError.errorName;
}

/** The PCE reported the job failed or cancelled; the message carries the PCE's reason. */
export class PceJobFailed extends ExportError {
  static readonly errorName = 'PceJobFailed';
  override readonly name = PceJobFailed.errorName;
}

/** The job did not finish within maxWaitSeconds. */
export class PceJobTimeout extends ExportError {
  static readonly errorName = 'PceJobTimeout';
  override readonly name = PceJobTimeout.errorName;
}
