import { type CollectionQuery, createCollectionJobs } from './collection-jobs';
import type { AsyncJobApi } from './jobs';
import { createLabelLookup, type LabelLookup } from './labels';
import { createTrafficQueries, type TrafficQueryApi, type TrafficRunQueryApi } from './traffic-queries';
import { createTransport, type PceClientRuntime } from './transport';
import type { PceClientOptions, PceConnection } from './types';

export type { PceClientRuntime } from './transport';

/** The PCE's asynchronous jobs on one org of one PCE, over one connection pool and one set of credentials. */
export interface PceClient {
  /** Collection jobs: GET {collection} with `Prefer: respond-async` → job → datafile. */
  readonly collections: AsyncJobApi<CollectionQuery>;
  /** Explorer traffic queries: POST async_queries → query → `/download`. */
  readonly traffic: TrafficQueryApi;
  /** Closes the connection pool. */
  close(): Promise<void>;
}

/** What a traffic run uses besides the job API: the counts, update_rules and names of queries, and labels. */
export interface TrafficRunClient {
  readonly traffic: TrafficRunQueryApi;
  /** Labels by key and value (traffic filters may name them so). */
  readonly labels: LabelLookup;
  close(): Promise<void>;
}

/**
 * A client for the PCE's async-job protocol, for one org of one PCE. Every error it throws is an
 * ExportError whose name is the state machine's error and whose message never carries a
 * credential. Errors while streaming a result surface on the result's stream, the same way.
 */
export function createPceClient(
  connection: PceConnection,
  options: PceClientOptions = {},
  runtime: PceClientRuntime = {},
): PceClient & TrafficRunClient {
  const transport = createTransport(connection, options, runtime);
  return {
    collections: createCollectionJobs(transport),
    traffic: createTrafficQueries(transport),
    labels: createLabelLookup(transport),
    close: () => transport.close(),
  };
}
