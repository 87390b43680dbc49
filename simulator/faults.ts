/**
 * Scriptable misbehaviour. A fault selects calls to one endpoint (or several, or `'any'`)
 * and changes what the simulator does with them. Calls are counted per fault, from the
 * moment it was added: `nth: 3, times: 2` hits the 3rd and 4th matching calls.
 *
 * Several faults may hit the same call; they compose (a `retry-after` and a `location`
 * fault both change the same 202). `respond` and `reset` end the call, so body faults do
 * not apply to them. Job faults act at submit time on the job they create.
 *
 * ```ts
 * sim.faults.add(fault.respond(503, { endpoint: 'job', times: 2 }));
 * sim.faults.add(fault.retryAfterHttpDate(3));
 * sim.faults.add(fault.cutBody(10_000, { endpoint: 'datafile' }));
 * ```
 */

/** Names of the routes a fault can select. */
export type FaultEndpoint =
  /** `GET /orgs/{org}/{collection}` with `Prefer: respond-async` (the 202). */
  | 'submit'
  /** `GET /orgs/{org}/{collection}` without `Prefer: respond-async`. */
  | 'collection'
  /** `GET /orgs/{org}/jobs/{id}` (poll). */
  | 'job'
  /** `GET /orgs/{org}/jobs`. */
  | 'jobs'
  /** `DELETE /orgs/{org}/jobs/{id}`. */
  | 'delete'
  /** `GET /orgs/{org}/datafiles/{id}`. */
  | 'datafile'
  /** `POST /orgs/{org}/traffic_flows/async_queries`. */
  | 'traffic-submit'
  /** `GET /orgs/{org}/traffic_flows/async_queries/{id}`. */
  | 'traffic-poll'
  /** `GET /orgs/{org}/traffic_flows/async_queries`. */
  | 'traffic-list'
  /** `GET /orgs/{org}/traffic_flows/async_queries/{id}/download`. */
  | 'traffic-download'
  /** `DELETE /orgs/{org}/traffic_flows/async_queries/{id}`. */
  | 'traffic-delete'
  /** Anything else that exists (`/health`, `/product_version`). */
  | 'other'
  /** Every routed call. */
  | 'any';

/** Which calls a fault hits. */
export interface FaultSelector<E extends FaultEndpoint = FaultEndpoint> {
  /** Endpoint(s) whose calls are counted and hit. Each kind documents its default. */
  readonly endpoint?: E | readonly E[];
  /** First matching call hit, 1-based, counted from when the fault was added. @default 1 */
  readonly nth?: number;
  /** How many consecutive matching calls are hit from the `nth`; `Infinity` = all. @default 1 */
  readonly times?: number;
}

/** Endpoints that create a job (collection job or traffic query). */
export type JobEndpoint = 'submit' | 'traffic-submit';

/** Answer with this status instead of doing the call. Default endpoint `'any'`. */
export interface RespondFault extends FaultSelector {
  readonly kind: 'respond';
  readonly status: number;
  /**
   * Body: a string is sent verbatim, anything else as JSON. When left out, statuses >= 400
   * get a PCE-style `[{token, message}]` body and others an empty body.
   */
  readonly body?: unknown;
  /** Extra headers, e.g. `{ 'content-type': 'text/html' }`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** `Retry-After` header value (e.g. on a 429 or 503). */
  readonly retryAfter?: string | number;
}

/** Destroy the connection without answering (a reset). Default endpoint `'any'`. */
export interface ResetFault extends FaultSelector {
  readonly kind: 'reset';
}

/** Wait this long before handling the call (header timeouts). Default endpoint `'any'`. */
export interface DelayFault extends FaultSelector {
  readonly kind: 'delay';
  readonly ms: number;
}

/**
 * Replace the `Retry-After` header of the hit response (adds it where there was none).
 * Default endpoint `'submit'`.
 */
export interface RetryAfterFault extends FaultSelector {
  readonly kind: 'retry-after';
  /**
   * Sent verbatim (`'soon'`, `'-5'`, `999999999`); `null` removes the header;
   * `{ httpDateInSeconds }` sends an HTTP-date that many seconds after the response.
   */
  readonly value: string | number | null | { readonly httpDateInSeconds: number };
}

/** Change the `Location` of the 202. Endpoint is always `'submit'`. */
export interface LocationFault extends FaultSelector<'submit'> {
  readonly kind: 'location';
  /**
   * `absolute`: `{url}/api/v2/orgs/{org}/jobs/{id}`; `relative`: `/orgs/{org}/jobs/{id}`;
   * `none`: no Location header; `custom`: `template` with `{url}`, `{org}` and `{id}` replaced.
   * The job is created either way and can be polled at its real href.
   */
  readonly mode: 'absolute' | 'relative' | 'none' | 'custom';
  /** For `custom`, e.g. `'http://127.0.0.2:8443/api/v2/orgs/1/jobs/{id}'` or `'/orgs/1/jobs/../../x'`. */
  readonly template?: string;
}

/** The created job ends `failed` (result `{message}`) instead of `done`. Default endpoint `'submit'`. */
export interface JobFailsFault extends FaultSelector<JobEndpoint> {
  readonly kind: 'job-fails';
  /** @default 'Job failed: exceeded time limit' */
  readonly message?: string;
  /** When it fails, after submit. @default the job duration */
  readonly afterMs?: number;
}

/** The created job ends with this status string (`cancelled`, `exploded`, `DONE`…). Default `'submit'`. */
export interface JobStatusFault extends FaultSelector<JobEndpoint> {
  readonly kind: 'job-status';
  readonly status: string;
  /** @default the job duration */
  readonly afterMs?: number;
}

/** The created job disappears: polls (and delete, and its datafile) answer 404. Default `'submit'`. */
export interface JobVanishesFault extends FaultSelector<JobEndpoint> {
  readonly kind: 'job-vanishes';
  /** Polls answered normally before it vanishes. @default 0 */
  readonly afterPolls?: number;
}

/** The created job never terminates. Default endpoint `'submit'`. */
export interface JobNeverFinishesFault extends FaultSelector<JobEndpoint> {
  readonly kind: 'job-never-finishes';
  /** Status it keeps reporting. @default 'running' (traffic: 'working') */
  readonly status?: string;
}

/**
 * The created job, once done, reports this `result.href` (traffic: `result`) instead of its
 * real one; the real datafile stays downloadable. Default endpoint `'submit'`.
 */
export interface ResultHrefFault extends FaultSelector<JobEndpoint> {
  readonly kind: 'result-href';
  /** `{url}`, `{org}`, `{id}` (the real datafile/query id) are replaced. */
  readonly href: string;
}

/** Send the body at this rate. Default endpoint `'datafile'`. */
export interface SlowBodyFault extends FaultSelector {
  readonly kind: 'slow-body';
  readonly bytesPerSecond: number;
}

/** Send this many body bytes (as on the wire, after gzip) then destroy the socket. Default `'datafile'`. */
export interface CutBodyFault extends FaultSelector {
  readonly kind: 'cut-body';
  readonly afterBytes: number;
}

/** A complete 200 whose JSON is broken (the real body cut in half). Default endpoint `'job'`. */
export interface MalformedJsonFault extends FaultSelector {
  readonly kind: 'malformed-json';
  /** Exact body to send instead. */
  readonly body?: string;
}

/** The usual status and headers, but `Content-Length: 0`. Default endpoint `'job'`. */
export interface EmptyBodyFault extends FaultSelector {
  readonly kind: 'empty-body';
}

/** Another `Content-Type` (e.g. an HTML login page from a proxy). Default endpoint `'job'`. */
export interface ContentTypeFault extends FaultSelector {
  readonly kind: 'content-type';
  readonly contentType: string;
  /** Replacement body; the real body is kept when left out. */
  readonly body?: string;
}

/**
 * A completed result served as an empty JSON array (`[]`), as a traffic query can briefly do
 * right after it completes. Default endpoint `'traffic-download'`.
 */
export interface EmptyResultFault extends FaultSelector {
  readonly kind: 'empty-result';
}

/**
 * The streamed body (a download, a datafile) sent as gzip bytes without `Content-Encoding`,
 * whatever `Accept-Encoding` said: a gzip file served as `application/json`. Default endpoint
 * `'traffic-download'`.
 */
export interface GzipWithoutEncodingFault extends FaultSelector {
  readonly kind: 'gzip-without-encoding';
}

export type Fault =
  | RespondFault
  | ResetFault
  | DelayFault
  | RetryAfterFault
  | LocationFault
  | JobFailsFault
  | JobStatusFault
  | JobVanishesFault
  | JobNeverFinishesFault
  | ResultHrefFault
  | SlowBodyFault
  | CutBodyFault
  | MalformedJsonFault
  | EmptyBodyFault
  | ContentTypeFault
  | EmptyResultFault
  | GzipWithoutEncodingFault;

export type FaultKind = Fault['kind'];
export type JobFault =
  | JobFailsFault
  | JobStatusFault
  | JobVanishesFault
  | JobNeverFinishesFault
  | ResultHrefFault;

const DEFAULT_ENDPOINT: Readonly<Record<FaultKind, FaultEndpoint>> = {
  respond: 'any',
  reset: 'any',
  delay: 'any',
  'retry-after': 'submit',
  location: 'submit',
  'job-fails': 'submit',
  'job-status': 'submit',
  'job-vanishes': 'submit',
  'job-never-finishes': 'submit',
  'result-href': 'submit',
  'slow-body': 'datafile',
  'cut-body': 'datafile',
  'malformed-json': 'job',
  'empty-body': 'job',
  'content-type': 'job',
  'empty-result': 'traffic-download',
  'gzip-without-encoding': 'traffic-download',
};

const JOB_KINDS: ReadonlySet<FaultKind> = new Set([
  'job-fails',
  'job-status',
  'job-vanishes',
  'job-never-finishes',
  'result-href',
]);

export function isJobFault(f: Fault): f is JobFault {
  return JOB_KINDS.has(f.kind);
}

/** A fault once added: how often it has hit, and a way to take it out. */
export interface FaultHandle {
  readonly fault: Fault;
  /** Matching calls seen since it was added. */
  readonly seen: number;
  /** Calls it changed. */
  readonly hits: number;
  remove(): void;
}

export interface FaultController {
  /** Adds a fault; it counts calls from now. */
  add(fault: Fault): FaultHandle;
  /** Removes every fault. */
  clear(): void;
  /** Faults currently installed, in the order added. */
  readonly active: readonly FaultHandle[];
}

class Installed implements FaultHandle {
  seen = 0;
  hits = 0;
  private readonly endpoints: ReadonlySet<FaultEndpoint>;
  private readonly nth: number;
  private readonly times: number;

  constructor(
    readonly fault: Fault,
    private readonly owner: FaultRegistry,
  ) {
    const ep = fault.endpoint ?? DEFAULT_ENDPOINT[fault.kind];
    this.endpoints = new Set(typeof ep === 'string' ? [ep] : ep);
    this.nth = fault.nth ?? 1;
    this.times = fault.times ?? 1;
  }

  /** Counts the call if it is for this fault's endpoint; true when the fault hits it. */
  offer(endpoint: FaultEndpoint): boolean {
    if (!this.endpoints.has('any') && !this.endpoints.has(endpoint)) return false;
    this.seen++;
    if (this.seen >= this.nth && this.seen < this.nth + this.times) {
      this.hits++;
      return true;
    }
    return false;
  }

  remove(): void {
    this.owner.remove(this);
  }
}

/** The simulator's fault list. */
export class FaultRegistry implements FaultController {
  private installed: Installed[] = [];

  constructor(initial: readonly Fault[] = []) {
    for (const f of initial) this.add(f);
  }

  add(fault: Fault): FaultHandle {
    validateFault(fault);
    const handle = new Installed(fault, this);
    this.installed.push(handle);
    return handle;
  }

  clear(): void {
    this.installed = [];
  }

  get active(): readonly FaultHandle[] {
    return [...this.installed];
  }

  remove(handle: FaultHandle): void {
    this.installed = this.installed.filter((h) => h !== handle);
  }

  /** Every fault that hits this call (each one counts it). */
  take(endpoint: FaultEndpoint): Fault[] {
    const hits: Fault[] = [];
    for (const handle of this.installed) if (handle.offer(endpoint)) hits.push(handle.fault);
    return hits;
  }
}

function validateFault(f: Fault): void {
  const problem = (msg: string): never => {
    throw new TypeError(`Invalid ${f.kind} fault: ${msg}`);
  };
  if (f.nth !== undefined && !(Number.isInteger(f.nth) && f.nth >= 1)) problem('nth must be an integer >= 1');
  if (
    f.times !== undefined &&
    !(f.times === Number.POSITIVE_INFINITY || (Number.isInteger(f.times) && f.times >= 1))
  )
    problem('times must be an integer >= 1 or Infinity');
  const endpoints =
    f.endpoint === undefined ? [] : typeof f.endpoint === 'string' ? [f.endpoint] : f.endpoint;
  if (isJobFault(f) && endpoints.some((e) => e !== 'submit' && e !== 'traffic-submit'))
    problem("endpoint must be 'submit' or 'traffic-submit'");
  switch (f.kind) {
    case 'respond':
      if (!(Number.isInteger(f.status) && f.status >= 100 && f.status <= 599))
        problem('status must be 100..599');
      break;
    case 'delay':
      if (!(f.ms >= 0)) problem('ms must be >= 0');
      break;
    case 'slow-body':
      if (!(f.bytesPerSecond > 0)) problem('bytesPerSecond must be > 0');
      break;
    case 'cut-body':
      if (!(Number.isInteger(f.afterBytes) && f.afterBytes >= 0))
        problem('afterBytes must be an integer >= 0');
      break;
    case 'location':
      if (f.mode === 'custom' && f.template === undefined) problem('custom mode needs a template');
      break;
    default:
      break;
  }
}

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
