import type { ClockMode, SimulatorClock } from './clock';
import type { Fault, FaultEndpoint } from './fault-kinds';
import type { FaultController } from './faults';
import type { RevisionChanges } from './store';

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
  /**
   * The older traffic model, kept for the tests written against it: when given, every Explorer
   * query returns min(max_results, this) flows made up for that query inside its window, with
   * its policy decisions, and no other filter applied. Leave it out for the population of
   * {@link TrafficOptions}. Cannot be combined with `traffic`.
   */
  readonly trafficFlows?: number;
  /** Everyday audit events (sign-ins, failed logins, system tasks…) a day, at most 1,000,000. @default 96 */
  readonly eventsPerDay?: number;
  /** Days of audit events kept, up to the moment of a query. @default 30 */
  readonly eventRetentionDays?: number;
}

/** A burst of flows inside one short interval, on top of the population. */
export interface TrafficBurst {
  /** Start of the burst: ISO 8601 or epoch milliseconds. */
  readonly at: string | number;
  /** Flows in the burst, each from its own source address (100.64.0.0/10). @default 210_000 */
  readonly flows?: number;
  /** Length of the burst; its flows start and end inside it. @default 60 */
  readonly seconds?: number;
  /**
   * `spread`: decisions, protocols (TCP 55%, UDP 40%, ICMP 5%) and ports (1..65535) are spread
   * evenly, so a split by any of them gets under the cap; `uniform`: every flow is blocked
   * TCP 445, so no split by decision, protocol or port can.
   * @default 'spread'
   */
  readonly shape?: 'spread' | 'uniform';
}

/** The Explorer flows the simulated PCE holds: a fixed population over time. */
export interface TrafficOptions {
  /** Flows per 24 hours (up to 20,000,000). @default 20_000 */
  readonly flowsPerDay?: number;
  /** How many days of flows there are, ending at `until`. @default 30 */
  readonly days?: number;
  /** End of the population, ISO 8601 or epoch ms. @default the time each query is created */
  readonly until?: string | number;
  readonly burst?: TrafficBurst;
  /** Downloads of each completed query that serve `[]` before the flows. @default 0 */
  readonly emptyDownloads?: number;
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
  /** The traffic population of every org. @default 20,000 flows a day over the last 30 days */
  readonly traffic?: TrafficOptions;
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
  /**
   * The data's revision at start: each revision adds, removes and edits a deterministic set
   * of objects of every collection (see `sim.setRevision`). Revisions given here happened an
   * hour apart, the last one an hour before the start. @default 0
   */
  readonly revision?: number;
  /** Oldest recorded requests are dropped beyond this many. @default 10_000 */
  readonly maxRecordedRequests?: number;
  /**
   * `system`: the simulator's time follows the system clock; `manual`: it stands still until
   * `sim.clock.advance(ms)`. Either can be advanced. Traffic queries keep the system clock.
   * @default 'system'
   */
  readonly clock?: ClockMode;
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
  /** The simulator's time: jobs, fault windows, events and the rate limiter run on it. */
  readonly clock: SimulatorClock;
  /** Bytes sent on all connections so far, as on the wire (after gzip and TLS). */
  bytesSent(): number;
  /** The data's revision now (0: as generated). */
  readonly revision: number;
  /**
   * Moves the data to `revision`: each revision past the current one happens now (its changes
   * carry this time, and its audit events too); going back forgets the later ones. Jobs
   * submitted before keep the revision they were submitted at.
   */
  setRevision(revision: number): void;
  /**
   * Hrefs added, removed and changed from revision `from` to `to`, by collection path
   * (`labels`, `workloads`, `sec_policy/draft/rule_sets`, …), for org `org` (default: the first).
   */
  changes(from: number, to: number, org?: number): RevisionChanges;
  /** Every traffic query created so far, oldest first, deleted ones included. */
  trafficQueries(): readonly TrafficQueryRecord[];
  /** Stops listening and destroys open sockets. */
  close(): Promise<void>;
}

/** One Explorer query as the simulator saw it. */
export interface TrafficQueryRecord {
  readonly href: string;
  readonly queryName: string;
  /** The accepted body with its defaults filled in. */
  readonly query: Readonly<Record<string, unknown>>;
  /** Epoch ms. */
  readonly createdAt: number;
  /** What a poll would report now. */
  readonly status: string;
  /** Once completed. */
  readonly flowsCount?: number;
  readonly matchesCount?: number;
  /** Status of the draft policy computation, once `update_rules` was called. */
  readonly rulesStatus?: string;
  readonly downloads: number;
  /** When DELETE removed it (or it vanished through a fault); absent while it is on the PCE. */
  readonly deletedAt?: number;
}
