/*
 * The base of the errors a state machine sees, and the configuration error every floor throws.
 * Each class's `name` is the `Error` of the Step Functions failure and its static `errorName`
 * the same word, so that the state machine's list of names is derived from the classes
 * (`lambdas/export/errors.ts`). The message is the human sentence that becomes the `Cause`: it
 * carries the HTTP status, the PCE's error token and the href involved, and never a credential.
 */

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
  abstract override readonly name: string;
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

/** Bad input, a missing or malformed secret, an untrusted TLS certificate: fix the configuration. */
export class ExportConfigError extends ExportError {
  static readonly errorName = 'ExportConfigError';
  override readonly name = ExportConfigError.errorName;
}

export function isExportError(value: unknown): value is ExportError {
  return value instanceof ExportError;
}
