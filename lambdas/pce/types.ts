import type { CredentialSource } from '../contracts/credentials';

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
  /** Where the key and the CA come from, as messages name it. @default the secret's fields (`secretSource()`) */
  readonly credentialSource?: CredentialSource;
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
  /** Send every request through this HTTP(S) proxy (CONNECT), but to the `noProxy` hosts. @default straight to the PCE */
  readonly proxy?: import('./dispatcher').PceProxy;
  /** An undici Dispatcher to use instead of the client's own Agent (tests: MockAgent). */
  readonly dispatcher?: import('undici').Dispatcher;
}

/** One actor of a traffic query filter, as the PCE takes it. */
export type TrafficActor =
  | { readonly label: { readonly href: string } }
  | { readonly label_group: { readonly href: string } }
  | { readonly workload: { readonly href: string } }
  | { readonly ip_list: { readonly href: string } }
  | { readonly ip_address: string }
  /** Destinations only: `unicast`, `broadcast` or `multicast`. */
  | { readonly transmission: string };

/** One service filter of a traffic query (every field given must match). */
export interface TrafficServiceFilter {
  readonly port?: number;
  /** With `port`: the range's last port. */
  readonly to_port?: number;
  /** IANA protocol number. */
  readonly proto?: number;
  readonly process_name?: string;
  readonly windows_service_name?: string;
}

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
  /** `include`: alternatives (empty: any); `exclude`: services whose flows are left out. */
  readonly services: {
    readonly include: readonly TrafficServiceFilter[];
    readonly exclude: readonly TrafficServiceFilter[];
  };
  readonly sources_destinations_query_op: 'and' | 'or';
  readonly exclude_workloads_from_ip_list_query: boolean;
}
