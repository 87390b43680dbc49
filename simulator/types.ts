import type { Fault, FaultEndpoint } from './fault-kinds';
import type { FaultController } from './faults';

/** How many objects of each kind one org holds. Every count may be 0. */
export interface DatasetSizes {
  /** @default 40 */
  readonly labels?: number;
  /** @default 200 — may be millions; objects are generated on the fly. */
  readonly workloads?: number;
  /** @default 30 */
  readonly services?: number;
  /** @default 12 */
  readonly ipLists?: number;
  /** @default 8 */
  readonly labelGroups?: number;
  /** @default 12 (draft and active each) */
  readonly ruleSets?: number;
  /** Flows available to an Explorer query; a query returns min(max_results, this). @default 1000 */
  readonly trafficFlows?: number;
}

export interface SimulatorOptions {
  /** Loopback address to listen on; anything else is refused. @default '127.0.0.1' */
  readonly host?: string;
  /** @default 0 (an ephemeral port) */
  readonly port?: number;
  /** Serve HTTPS with a freshly generated private CA (ECDSA P-256). @default false */
  readonly tls?: boolean;
  /** The one API key accepted (HTTP Basic). @default generated: `api_` + 16 hex / 64 hex */
  readonly credentials?: { readonly apiKey: string; readonly apiSecret: string };
  /** Orgs that exist; any other `/orgs/{n}` answers 403. @default [1] */
  readonly orgs?: readonly number[];
  /** Same seed, same data, byte for byte. @default 1 */
  readonly seed?: number;
  /** Object counts per org. Defaults are small; see {@link DatasetSizes}. */
  readonly dataset?: DatasetSizes;
  /** Time a job takes from submit to done; the first 20% it is `pending`, then `running`. @default 1500 */
  readonly jobDurationMs?: number;
  /** `Retry-After` on the 202 and on polls of unfinished jobs. @default 1 */
  readonly retryAfterSeconds?: number;
  /** Requests per API key per sliding 60 s window before 429; `Infinity` disables. @default 500 */
  readonly rateLimitPerMinute?: number;
  /** Most objects a synchronous collection GET returns. @default 500 */
  readonly syncLimit?: number;
  /** `Location` of the 202: `/orgs/1/jobs/<id>` or `{url}/api/v2/orgs/1/jobs/<id>`. @default 'relative' */
  readonly locationStyle?: 'relative' | 'absolute';
  /** Faults active from the start. @default [] */
  readonly faults?: readonly Fault[];
  /** Oldest recorded requests are dropped beyond this many. @default 10_000 */
  readonly maxRecordedRequests?: number;
}

export interface RecordedRequest {
  readonly method: string;
  /** Path without the query string, e.g. `/api/v2/orgs/1/workloads`. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** Header names lowercased; values as received (Authorization included). */
  readonly headers: Readonly<Record<string, string>>;
  /** Epoch milliseconds when the request arrived. */
  readonly time: number;
  /** Which endpoint it was routed to (the names faults select on), when it was routed. */
  endpoint?: FaultEndpoint;
  /** Status sent, once the response has started; absent when the socket was cut first. */
  status?: number;
  /** Request body, for POSTs. */
  body?: string;
}

export interface RunningSimulator {
  /** Base URL without `/api/v2`, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** PEM of the private CA when `tls` is on. */
  readonly caPem?: string;
  readonly credentials: { readonly apiKey: string; readonly apiSecret: string };
  /** Every request received, oldest first. Clear it with `requests.length = 0`. */
  readonly requests: RecordedRequest[];
  readonly faults: FaultController;
  /** Bytes sent on all connections so far, as on the wire (after gzip and TLS). */
  bytesSent(): number;
  /** Stops listening and destroys open sockets. */
  close(): Promise<void>;
}
