import type { Readable } from 'node:stream';

/** What the PCE client needs to reach one org of one PCE. */
export interface PceConnection {
  /** Base URL of the PCE, without `/api/v2`, e.g. `https://pce.example.com:8443`. */
  readonly baseUrl: string;
  /** The org id, e.g. 1. */
  readonly orgId: number;
  /** API key `auth_username` (`api_…`). */
  readonly apiKey: string;
  /** API key secret. */
  readonly apiSecret: string;
  /** PEM bundle of extra CAs trusted in addition to the system roots (the PCE's internal CA). */
  readonly caBundle?: string;
}

export interface RetryAfterBounds {
  /** Used when Retry-After is missing or unusable. @default 5 */
  readonly defaultSeconds: number;
  /** Lower clamp. @default 1 */
  readonly minSeconds: number;
  /** Upper clamp. @default 300 */
  readonly maxSeconds: number;
}

export interface PceClientOptions {
  readonly retryAfter?: Partial<RetryAfterBounds>;
  /** TCP/TLS connect timeout. @default 10_000 */
  readonly connectTimeoutMs?: number;
  /** Time to wait for response headers. @default 30_000 */
  readonly headersTimeoutMs?: number;
  /** Longest silence while reading a body. @default 60_000 */
  readonly bodyTimeoutMs?: number;
  /**
   * On 429 the client itself waits out a Retry-After no longer than this, at most
   * `rateLimitRetries` times, before throwing PceRateLimited. @default 20
   */
  readonly rateLimitWaitBudgetSeconds?: number;
  /** @default 3 */
  readonly rateLimitRetries?: number;
  /** An undici Dispatcher to use instead of the client's own Agent (tests: MockAgent). */
  readonly dispatcher?: import('undici').Dispatcher;
}

export interface SubmitResult {
  /** Normalised relative href of the job: `/orgs/{org}/jobs/{id}`. */
  readonly jobHref: string;
  /** Retry-After of the 202, clamped. */
  readonly retryAfterSeconds: number;
}

/** Job status as the PCE reports it, lowercased. `cancelled` and other unknown values are not in here. */
export type JobStatus = 'pending' | 'running' | 'done' | 'failed';

export interface PollResult {
  readonly status: JobStatus;
  /** Normalised relative datafile href `/orgs/{org}/datafiles/{id}`, present when status is done. */
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

/** One actor of a traffic query filter, as the PCE takes it. */
export type TrafficActor =
  | { readonly label: { readonly href: string } }
  | { readonly label_group: { readonly href: string } }
  | { readonly workload: { readonly href: string } }
  | { readonly ip_list: { readonly href: string } }
  | { readonly ip_address: string };

/** The body of `POST /orgs/{org}/traffic_flows/async_queries` (Explorer). */
export interface TrafficQueryBody {
  readonly query_name: string;
  /** ISO 8601. */
  readonly start_date: string;
  readonly end_date: string;
  /** Empty: every decision. */
  readonly policy_decisions: readonly string[];
  /** 1 to 200,000. */
  readonly max_results: number;
  /** `include` is an OR of ANDs (`[[]]`: any); `exclude` a list of actors. */
  readonly sources: {
    readonly include: readonly (readonly TrafficActor[])[];
    readonly exclude: readonly TrafficActor[];
  };
  readonly destinations: {
    readonly include: readonly (readonly TrafficActor[])[];
    readonly exclude: readonly TrafficActor[];
  };
  readonly services: { readonly include: readonly unknown[]; readonly exclude: readonly unknown[] };
  readonly sources_destinations_query_op: 'and' | 'or';
  readonly exclude_workloads_from_ip_list_query: boolean;
}

/**
 * Explorer's async traffic queries, one org of one PCE. Statuses are mapped onto the job ones:
 * `queued` → pending, `working` → running, `completed` → done, `failed`, `cancel_requested` and
 * `cancelled` → failed (with a message); anything else is a PceProtocolError.
 */
export interface PceTrafficApi {
  /** POST the query; expects 201/202 with a JSON body naming the query's `href`. `jobHref` is that href. */
  submit(body: TrafficQueryBody): Promise<SubmitResult>;
  /** GET the query. Once done, `resultHref` is its download href `/orgs/{org}/traffic_flows/async_queries/{id}/download`. */
  poll(queryHref: string): Promise<PollResult>;
  /** GET `{query}/download` as a stream; gzip is recognised by its bytes whatever the headers say. */
  openDownload(downloadHref: string): Promise<Datafile>;
  /** DELETE the query (404 counts as deleted). */
  delete(queryHref: string): Promise<void>;
}

/** The PCE async-job protocol, one org of one PCE. Created by `createPceClient` in `client.ts`. */
export interface PceClient {
  /**
   * Explorer traffic queries over the same connection and credentials. Always present on clients
   * made by `createPceClient`; optional so that collection-only stand-ins need not provide it.
   */
  readonly traffic?: PceTrafficApi;
  /** GET {collection} with `Prefer: respond-async`; expects 202 with Location and Retry-After. */
  submit(path: string, query?: Readonly<Record<string, string>>): Promise<SubmitResult>;
  /** GET the job. `cancelled` comes back as status `failed` with a message; other unknown values throw PceProtocolError. */
  poll(jobHref: string): Promise<PollResult>;
  /** GET the datafile as a stream, never buffered whole. */
  openDatafile(resultHref: string): Promise<Datafile>;
  /** DELETE the job. */
  deleteJob(jobHref: string): Promise<void>;
  /** Closes the connection pool. */
  close(): Promise<void>;
}
