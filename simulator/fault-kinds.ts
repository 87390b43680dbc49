/**
 * The kinds of scriptable misbehaviour: which calls a fault selects, and what each kind does.
 * How faults are counted and composed is described with the registry (`faults.ts`). A PCE
 * restart's faults (outages, refused connections, maintenance, 429 storms) are in
 * `fault-kinds-outage.ts`; odd but valid and hostile answers in `fault-kinds-answers.ts`.
 */
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
  ThrottleFault,
} from './fault-kinds-outage';

/** Names of the routes a fault can select (one list, for the type and for validation). */
export const FAULT_ENDPOINTS = [
  /** `GET /orgs/{org}/{collection}` with `Prefer: respond-async` (the 202). */
  'submit',
  /** `GET /orgs/{org}/{collection}` without `Prefer: respond-async`. */
  'collection',
  /** `GET /orgs/{org}/jobs/{id}` (poll). */
  'job',
  /** `GET /orgs/{org}/jobs`. */
  'jobs',
  /** `DELETE /orgs/{org}/jobs/{id}`. */
  'delete',
  /** `GET /orgs/{org}/datafiles/{id}`. */
  'datafile',
  /** `POST /orgs/{org}/traffic_flows/async_queries`. */
  'traffic-submit',
  /** `GET /orgs/{org}/traffic_flows/async_queries/{id}`. */
  'traffic-poll',
  /** `GET /orgs/{org}/traffic_flows/async_queries`. */
  'traffic-list',
  /** `GET /orgs/{org}/traffic_flows/async_queries/{id}/download`. */
  'traffic-download',
  /** `PUT /orgs/{org}/traffic_flows/async_queries/{id}/update_rules`. */
  'traffic-update-rules',
  /** `DELETE /orgs/{org}/traffic_flows/async_queries/{id}`. */
  'traffic-delete',
  /** `GET` of one object by its href: `/orgs/{org}/labels/{id}`, `/orgs/{org}/events/{uuid}`… */
  'object',
  /** Anything else that exists (`/health`, `/product_version`). */
  'other',
  /** Every routed call. */
  'any',
] as const;

export type FaultEndpoint = (typeof FAULT_ENDPOINTS)[number];

/** Which calls a fault hits: the `nth` matching call and `times` more, or every one in a `window`. */
export interface FaultSelector<E extends FaultEndpoint = FaultEndpoint> {
  /** Endpoint(s) whose calls are counted and hit. Each kind documents its default. */
  readonly endpoint?: E | readonly E[];
  /** First matching call hit, 1-based, counted from when the fault was added. @default 1 */
  readonly nth?: number;
  /** How many consecutive matching calls are hit from the `nth`; `Infinity` = all. @default 1 */
  readonly times?: number;
  /**
   * Hit every matching call while a time window is open, instead of `nth`/`times` (which it
   * excludes). Measured on the simulator's clock.
   */
  readonly window?: FaultWindow;
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
  /** `Retry-After` header value (e.g. on a 429 or 503); `{ httpDateInSeconds }` sends an HTTP-date. */
  readonly retryAfter?: string | number | { readonly httpDateInSeconds: number };
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
  | GzipWithoutEncodingFault
  | OutageFault
  | MaintenanceFault
  | RefuseFault
  | ThrottleFault
  | HeaderCaseFault
  | FramingFault
  | GzipFault
  | DeepJsonFault
  | HugeErrorFault
  | ControlCharsFault
  | StallBodyFault
  | StatusCaseFault
  | ExtraFieldsFault
  | JobPhasesFault
  | JobHrefFault;

export type FaultKind = Fault['kind'];
export type JobFault =
  | JobFailsFault
  | JobStatusFault
  | JobVanishesFault
  | JobNeverFinishesFault
  | ResultHrefFault
  | StatusCaseFault
  | ExtraFieldsFault
  | JobPhasesFault
  | JobHrefFault;
