import type { Readable } from 'node:stream';
import type { JobStatus } from '../contracts/state';

/*
 * The PCE's asynchronous jobs, whatever their kind: a request is submitted, the job it created
 * is polled until it is done or failed, its result is opened as a stream, and the job is deleted.
 * Collection jobs (`collection-jobs.ts`) and Explorer traffic queries (`traffic-queries.ts`)
 * implement it over one transport (`transport.ts`).
 */

export interface SubmitResult {
  /** Normalised org-relative href of the job, e.g. `/orgs/{org}/jobs/{id}`. */
  readonly jobHref: string;
  /** Retry-After of the PCE's answer, clamped. */
  readonly retryAfterSeconds: number;
}

export interface PollResult {
  readonly status: JobStatus;
  /** Normalised org-relative href of the result, present when status is done. */
  readonly resultHref?: string;
  /** The PCE's explanation, when the job failed or was cancelled. */
  readonly message?: string;
  /** Retry-After of the poll response if present, else the default; clamped. */
  readonly retryAfterSeconds: number;
  readonly requestedAt?: string;
  readonly terminatedAt?: string;
}

export interface Datafile {
  /** The decoded body (transport gzip already undone), streamed. */
  readonly body: Readable;
  /** Decoded length in bytes when the server says it (not when it was transport-compressed). */
  readonly contentLength?: number;
  readonly contentType?: string;
}

/** One kind of asynchronous job on one org of one PCE. Every error is a named ExportError. */
export interface AsyncJobApi<Request> {
  /** Starts the job. */
  submit(request: Request): Promise<SubmitResult>;
  /** Reads the job's status once; unknown statuses are a PceProtocolError, cancelled ones `failed`. */
  poll(jobHref: string): Promise<PollResult>;
  /** Opens the finished job's result as a stream, never buffered whole. */
  open(resultHref: string): Promise<Datafile>;
  /** Deletes the job (one that is already gone counts as deleted). */
  delete(jobHref: string): Promise<void>;
}
