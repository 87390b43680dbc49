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

type Sel<E extends FaultEndpoint = FaultEndpoint> = FaultSelector<E>;

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
} as const;
