/** Constructors for every fault kind, so tests read `fault.respond(503, { endpoint: 'job' })`. */

import type {
  ContentTypeFault,
  CutBodyFault,
  DelayFault,
  EmptyBodyFault,
  EmptyResultFault,
  FaultEndpoint,
  FaultSelector,
  GzipWithoutEncodingFault,
  JobEndpoint,
  JobFailsFault,
  JobNeverFinishesFault,
  JobStatusFault,
  JobVanishesFault,
  LocationFault,
  MalformedJsonFault,
  ResetFault,
  RespondFault,
  ResultHrefFault,
  RetryAfterFault,
  SlowBodyFault,
} from './fault-kinds';
import type {
  ControlCharsFault,
  DeepJsonFault,
  ExtraFieldsFault,
  FramingFault,
  GzipFault,
  HeaderCaseFault,
  HugeErrorFault,
  JobHrefFault,
  JobPhasesFault,
  StallBodyFault,
  StatusCaseFault,
} from './fault-kinds-answers';
import type {
  FaultWindow,
  MaintenanceFault,
  OutageFault,
  RefuseFault,
  RetryAfterValue,
  ThrottleFault,
} from './fault-kinds-outage';

type Sel<E extends FaultEndpoint = FaultEndpoint> = FaultSelector<E>;
/** Endpoints only: the window is the builder's first argument. */
type On = Pick<FaultSelector, 'endpoint'>;

/** Constructors for every fault kind; the last argument is the selector. */
export const fault = {
  /** Answer `status` (with a PCE error body unless `body` is given). */
  respond: (
    status: number,
    opts: Sel & { body?: unknown; headers?: Record<string, string>; retryAfter?: string | number } = {},
  ): RespondFault => ({ kind: 'respond', status, ...opts }),
  /** Destroy the socket without answering. */
  reset: (sel: Sel = {}): ResetFault => ({ kind: 'reset', ...sel }),
  /** Hold the call for `ms` before handling it. */
  delay: (ms: number, sel: Sel = {}): DelayFault => ({ kind: 'delay', ms, ...sel }),

  /** Any `Retry-After` value, sent verbatim (`null` removes it). */
  retryAfter: (value: RetryAfterFault['value'], sel: Sel = {}): RetryAfterFault => ({
    kind: 'retry-after',
    value,
    ...sel,
  }),
  retryAfterMissing: (sel: Sel = {}): RetryAfterFault => ({ kind: 'retry-after', value: null, ...sel }),
  retryAfterHttpDate: (secondsAhead = 2, sel: Sel = {}): RetryAfterFault => ({
    kind: 'retry-after',
    value: { httpDateInSeconds: secondsAhead },
    ...sel,
  }),
  retryAfterGarbage: (sel: Sel = {}): RetryAfterFault => ({ kind: 'retry-after', value: 'soon-ish', ...sel }),
  retryAfterNegative: (sel: Sel = {}): RetryAfterFault => ({ kind: 'retry-after', value: '-5', ...sel }),
  retryAfterHuge: (sel: Sel = {}): RetryAfterFault => ({ kind: 'retry-after', value: '999999999', ...sel }),

  locationAbsolute: (sel: Sel<'submit'> = {}): LocationFault => ({
    kind: 'location',
    mode: 'absolute',
    ...sel,
  }),
  locationRelative: (sel: Sel<'submit'> = {}): LocationFault => ({
    kind: 'location',
    mode: 'relative',
    ...sel,
  }),
  locationNone: (sel: Sel<'submit'> = {}): LocationFault => ({ kind: 'location', mode: 'none', ...sel }),
  /** `template` with `{url}`, `{org}`, `{id}` placeholders. */
  locationCustom: (template: string, sel: Sel<'submit'> = {}): LocationFault => ({
    kind: 'location',
    mode: 'custom',
    template,
    ...sel,
  }),

  jobFails: (message?: string, sel: Sel<JobEndpoint> & { afterMs?: number } = {}): JobFailsFault => ({
    kind: 'job-fails',
    ...(message === undefined ? {} : { message }),
    ...sel,
  }),
  jobStatus: (status: string, sel: Sel<JobEndpoint> & { afterMs?: number } = {}): JobStatusFault => ({
    kind: 'job-status',
    status,
    ...sel,
  }),
  jobVanishes: (sel: Sel<JobEndpoint> & { afterPolls?: number } = {}): JobVanishesFault => ({
    kind: 'job-vanishes',
    ...sel,
  }),
  jobNeverFinishes: (sel: Sel<JobEndpoint> & { status?: string } = {}): JobNeverFinishesFault => ({
    kind: 'job-never-finishes',
    ...sel,
  }),
  resultHref: (href: string, sel: Sel<JobEndpoint> = {}): ResultHrefFault => ({
    kind: 'result-href',
    href,
    ...sel,
  }),

  slowBody: (bytesPerSecond: number, sel: Sel = {}): SlowBodyFault => ({
    kind: 'slow-body',
    bytesPerSecond,
    ...sel,
  }),
  cutBody: (afterBytes: number, sel: Sel = {}): CutBodyFault => ({ kind: 'cut-body', afterBytes, ...sel }),
  malformedJson: (sel: Sel & { body?: string } = {}): MalformedJsonFault => ({
    kind: 'malformed-json',
    ...sel,
  }),
  emptyBody: (sel: Sel = {}): EmptyBodyFault => ({ kind: 'empty-body', ...sel }),
  contentType: (contentType: string, sel: Sel & { body?: string } = {}): ContentTypeFault => ({
    kind: 'content-type',
    contentType,
    ...sel,
  }),
  /** Serve `[]` instead of the result (default: the first traffic download). */
  emptyResult: (sel: Sel = {}): EmptyResultFault => ({ kind: 'empty-result', ...sel }),
  /** Send the result as gzip bytes without Content-Encoding (default: the first traffic download). */
  gzipWithoutEncoding: (sel: Sel = {}): GzipWithoutEncodingFault => ({
    kind: 'gzip-without-encoding',
    ...sel,
  }),

  // A PCE restart, over a window of time.

  /** 502/503/504 from the front end while the window is open (default 503 on every endpoint). */
  outage: (
    window: FaultWindow,
    opts: On & {
      status?: 502 | 503 | 504;
      retryAfter?: RetryAfterValue;
      body?: 'html' | 'json' | 'empty';
    } = {},
  ): OutageFault => ({ kind: 'outage', window, ...opts }),
  /** Every matching connection reset while the window is open. */
  resets: (window: FaultWindow, opts: On = {}): ResetFault => ({ kind: 'reset', window, ...opts }),
  /** The listener stops accepting (connections refused), then comes back on the same port. */
  refuse: (window: FaultWindow, opts: On = {}): RefuseFault => ({ kind: 'refuse', window, ...opts }),
  /** Every endpoint answers 503 with a maintenance page. */
  maintenance: (
    window: FaultWindow,
    opts: { retryAfter?: RetryAfterValue; body?: 'html' | 'json' } = {},
  ): MaintenanceFault => ({ kind: 'maintenance', window, ...opts }),
  /** A 429 storm, with or without Retry-After. */
  throttle: (window: FaultWindow, opts: On & { retryAfter?: RetryAfterValue } = {}): ThrottleFault => ({
    kind: 'throttle',
    window,
    ...opts,
  }),

  // Odd but valid.

  headerCase: (style: 'upper' | 'title' = 'upper', sel: Sel = {}): HeaderCaseFault => ({
    kind: 'header-case',
    style,
    ...sel,
  }),
  framing: (mode: 'chunked' | 'content-length', sel: Sel = {}): FramingFault => ({
    kind: 'framing',
    mode,
    ...sel,
  }),
  /** Content-Encoding: gzip whatever the client accepts. */
  gzip: (sel: Sel = {}): GzipFault => ({ kind: 'gzip', ...sel }),
  /** The next job goes through these statuses before it terminates (default pending → running → pending → running). */
  jobPhases: (phases?: readonly string[], sel: Sel<'submit'> = {}): JobPhasesFault => ({
    kind: 'job-phases',
    ...(phases === undefined ? {} : { phases }),
    ...sel,
  }),
  statusCase: (style: 'upper' | 'title' = 'upper', sel: Sel<'submit'> = {}): StatusCaseFault => ({
    kind: 'status-case',
    style,
    ...sel,
  }),
  extraFields: (fields?: Record<string, unknown>, sel: Sel<'submit'> = {}): ExtraFieldsFault => ({
    kind: 'extra-fields',
    ...(fields === undefined ? {} : { fields }),
    ...sel,
  }),

  // Hostile.

  /** The job's documents carry this href (`{url}`, `{org}`, `{id}` replaced). */
  jobHref: (href: string, sel: Sel<'submit'> = {}): JobHrefFault => ({ kind: 'job-href', href, ...sel }),
  /** An error body of `bytes`, or endless when `bytes` is left out. */
  hugeError: (opts: Sel & { status?: number; bytes?: number } = {}): HugeErrorFault => ({
    kind: 'huge-error',
    ...opts,
  }),
  deepJson: (depth = 100_000, sel: Sel = {}): DeepJsonFault => ({ kind: 'deep-json', depth, ...sel }),
  controlChars: (sel: Sel & { text?: string } = {}): ControlCharsFault => ({ kind: 'control-chars', ...sel }),
  stallBody: (afterBytes: number, sel: Sel = {}): StallBodyFault => ({
    kind: 'stall-body',
    afterBytes,
    ...sel,
  }),
  /** One byte every `msPerByte` (a slow-body fault). */
  slowloris: (msPerByte = 1000, sel: Sel = {}): SlowBodyFault => ({
    kind: 'slow-body',
    bytesPerSecond: 1000 / msPerByte,
    ...sel,
  }),
} as const;
