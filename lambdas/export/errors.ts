import { ExportConfigError, ExportError, type ExportErrorDetails } from '../contracts/errors';
import {
  PceAuthError,
  PceJobFailed,
  PceJobTimeout,
  PceProtocolError,
  PceRateLimited,
  PceRequestError,
  PceUnavailable,
} from '../pce/errors';

/*
 * The errors of the export core, and the list of every error the state machine sees
 * (PRODUCT.md 3.3), derived from the classes of each domain.
 */

interface StorageErrorDetails extends ExportErrorDetails {
  /** S3's request id (`x-amz-request-id`), which AWS Support asks for. */
  readonly requestId?: string;
}

/**
 * Writing to S3 failed. Retried. An error S3 answered gives its code as `token`, its HTTP status
 * and its request id, all three named in the message too.
 */
export class ExportStorageError extends ExportError {
  static readonly errorName = 'ExportStorageError';
  override readonly name = ExportStorageError.errorName;
  readonly requestId?: string;

  constructor(message: string, details: StorageErrorDetails = {}) {
    super(message, details);
    this.requestId = details.requestId;
  }
}

/** @public A traffic window still holds more flows than `max_results` after splitting as far as allowed. */
export class TrafficIncomplete extends ExportError {
  static readonly errorName = 'TrafficIncomplete';
  override readonly name = TrafficIncomplete.errorName;
}

/** @public Anything else: a function timeout or crash, an AWS service failing after retries, a bug. */
export class ExportInternalError extends ExportError {
  static readonly errorName = 'ExportInternalError';
  override readonly name = ExportInternalError.errorName;
}

/** Every error class whose name a failed execution can end with, in the order PRODUCT.md lists them. */
const ERROR_CLASSES = [
  PceAuthError,
  PceRequestError,
  PceRateLimited,
  PceUnavailable,
  PceProtocolError,
  PceJobFailed,
  PceJobTimeout,
  ExportConfigError,
  ExportStorageError,
  TrafficIncomplete,
  ExportInternalError,
] as const;

type ErrorNames<T extends readonly { readonly errorName: string }[]> = {
  readonly [K in keyof T]: T[K]['errorName'];
};

/** The `Error` of a failed execution: one of these names. */
export type ExportErrorName = (typeof ERROR_CLASSES)[number]['errorName'];

/** The names the state machine catches and fails with. */
export const ERROR_NAMES = ERROR_CLASSES.map((errorClass) => errorClass.errorName) as unknown as ErrorNames<
  typeof ERROR_CLASSES
>;
