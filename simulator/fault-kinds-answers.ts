/**
 * Answers that are odd but valid (a client must take them in its stride) and answers that
 * are hostile (a client must bound what it reads and refuse what it cannot trust).
 */
import type { FaultSelector } from './fault-kinds';

// Odd but valid.

/** Response header names sent as `LOCATION` (`upper`) or `Retry-After` (`title`). Default endpoint `'any'`. */
export interface HeaderCaseFault extends FaultSelector {
  readonly kind: 'header-case';
  /** @default 'upper' */
  readonly style?: 'upper' | 'title';
}

/**
 * How the body is framed: `chunked` (no Content-Length, even on small JSON answers) or
 * `content-length` (a length even on a streamed datafile, which is produced twice to count it).
 * Default endpoint `'datafile'`.
 */
export interface FramingFault extends FaultSelector {
  readonly kind: 'framing';
  readonly mode: 'chunked' | 'content-length';
}

/**
 * The body sent with `Content-Encoding: gzip` whatever `Accept-Encoding` said, small JSON
 * answers and error bodies included. Default endpoint `'any'`.
 */
export interface GzipFault extends FaultSelector {
  readonly kind: 'gzip';
}

/**
 * The job created reports these statuses one after the other, sharing its time equally, before
 * it terminates: the default goes pending → running → pending → running → done. Endpoint
 * always `'submit'`.
 */
export interface JobPhasesFault extends FaultSelector<'submit'> {
  readonly kind: 'job-phases';
  /** @default ['pending', 'running', 'pending', 'running'] */
  readonly phases?: readonly string[];
}

/** The job created reports every status in another letter case (`RUNNING`, `Done`). Endpoint always `'submit'`. */
export interface StatusCaseFault extends FaultSelector<'submit'> {
  readonly kind: 'status-case';
  /** @default 'upper' */
  readonly style?: 'upper' | 'title';
}

/** The job created carries unknown fields in its documents (polls and the job list). Endpoint always `'submit'`. */
export interface ExtraFieldsFault extends FaultSelector<'submit'> {
  readonly kind: 'extra-fields';
  /** @default a few fields a newer PCE might add (`progress`, `priority`, `node`, `links`) */
  readonly fields?: Readonly<Record<string, unknown>>;
}

// Hostile.

/**
 * The job created reports this `href` in its documents (another org, another origin) while it
 * stays pollable at its real one. `{url}`, `{org}` and `{id}` are replaced. Endpoint always `'submit'`.
 */
export interface JobHrefFault extends FaultSelector<'submit'> {
  readonly kind: 'job-href';
  readonly href: string;
}

/**
 * An error answer whose body is enormous (`bytes`) or never ends (no `bytes`): a PCE-style JSON
 * error array that keeps growing, sent chunked as fast as the client reads. Default endpoint `'any'`.
 */
export interface HugeErrorFault extends FaultSelector {
  readonly kind: 'huge-error';
  /** @default 500 */
  readonly status?: number;
  /** Body size; leave out for an endless body. */
  readonly bytes?: number;
}

/**
 * A 200 whose body is valid JSON nested `depth` arrays deep (`[[[…]]]`), which a recursive
 * parser may not survive. Default endpoint `'job'`.
 */
export interface DeepJsonFault extends FaultSelector {
  readonly kind: 'deep-json';
  /** @default 100_000 */
  readonly depth?: number;
}

/**
 * Control characters (JSON-escaped, so the body stays valid) appended to the human-readable
 * strings of a JSON answer: `description`, `message`, `error_message`. Default endpoint `'job'`.
 */
export interface ControlCharsFault extends FaultSelector {
  readonly kind: 'control-chars';
  /** @default NUL, BEL, an ANSI colour and clear-screen, CR LF with a fake header, a bidi override */
  readonly text?: string;
}

/**
 * The body stops after `afterBytes` (as on the wire) while the connection stays open, sending
 * nothing more until the client gives up. Default endpoint `'datafile'`.
 */
export interface StallBodyFault extends FaultSelector {
  readonly kind: 'stall-body';
  readonly afterBytes: number;
}
