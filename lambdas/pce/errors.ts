/**
 * The errors a state machine sees. Each class's `name` is the `Error` of the Step Functions
 * failure; the message is the human sentence that becomes its `Cause`. Messages carry the HTTP
 * status, the PCE's error token and the href involved, and never a credential.
 */

export const ERROR_NAMES = [
  'PceAuthError',
  'PceRequestError',
  'PceRateLimited',
  'PceUnavailable',
  'PceProtocolError',
  'PceJobFailed',
  'PceJobTimeout',
  'ExportConfigError',
  'ExportStorageError',
] as const;

export type ExportErrorName = (typeof ERROR_NAMES)[number];

export interface ExportErrorDetails {
  /** HTTP status of the response that caused the error, when there was one. */
  readonly status?: number;
  /** The href (path or URL without credentials) the request went to. */
  readonly href?: string;
  /** The PCE's error token from a `[{token, message}]` body. */
  readonly token?: string;
  /** Seconds the server asked us to wait (429 and 5xx), already clamped. */
  readonly retryAfterSeconds?: number;
  /** The underlying error, kept for its stack; never serialised into the message. */
  readonly cause?: unknown;
}

export abstract class ExportError extends Error {
  abstract override readonly name: ExportErrorName;
  readonly status?: number;
  readonly href?: string;
  readonly token?: string;
  readonly retryAfterSeconds?: number;

  constructor(message: string, details: ExportErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
    this.href = details.href;
    this.token = details.token;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

/** 401 or 403 from the PCE: the API key is wrong, expired or lacks the permission. Not retried. */
export class PceAuthError extends ExportError {
  override readonly name = 'PceAuthError' as const;
}

/** Any other 4xx: a bad path or filter, a job that is gone. Not retried. */
export class PceRequestError extends ExportError {
  override readonly name = 'PceRequestError' as const;
}

/** 429 Too Many Requests, still after the client's own Retry-After waits. Retried by the state machine. */
export class PceRateLimited extends ExportError {
  override readonly name = 'PceRateLimited' as const;
}

/** 5xx, timeouts, connection resets, DNS failures, a body cut off mid-stream. Retried. */
export class PceUnavailable extends ExportError {
  override readonly name = 'PceUnavailable' as const;
}

/** A response outside the protocol: no or foreign Location, a bad href, bad JSON, an unknown status. */
export class PceProtocolError extends ExportError {
  override readonly name = 'PceProtocolError' as const;
}

/** The PCE reported the job failed or cancelled; the message carries the PCE's reason. */
export class PceJobFailed extends ExportError {
  override readonly name = 'PceJobFailed' as const;
}

/** The job did not finish within maxWaitSeconds. */
export class PceJobTimeout extends ExportError {
  override readonly name = 'PceJobTimeout' as const;
}

/** Bad input, a missing or malformed secret, an untrusted TLS certificate: fix the configuration. */
export class ExportConfigError extends ExportError {
  override readonly name = 'ExportConfigError' as const;
}

/** Writing to S3 failed. Retried. */
export class ExportStorageError extends ExportError {
  override readonly name = 'ExportStorageError' as const;
}

export function isExportError(value: unknown): value is ExportError {
  return value instanceof ExportError;
}
