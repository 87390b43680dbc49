import { ExportConfigError } from '../contracts/errors';
import type { ExportKind } from '../contracts/input';
import type { ExportRequest } from '../contracts/state';
import type { PceClient } from '../pce/client';
import type { AsyncJobApi, Datafile, SubmitResult } from '../pce/jobs';
import type { ExportLogger } from './logger';
import { trafficQueryBody } from './traffic-query';
import { openTrafficResult, type TrafficResultOptions } from './traffic-result';

/*
 * What each kind of export runs on the PCE. Submit, Poll and Fetch look the kind up here and go
 * through its async-job API; none of them knows the kinds. A new kind is one entry: the API it
 * uses on the client, how its request is built from the export request, and how it is named in
 * messages (and, if its results need it, how one is opened).
 */

interface SubmitContext {
  readonly exportName: string;
  readonly executionName: string;
  /** The configured org: hrefs in a request's filters must belong to it. */
  readonly orgId?: number;
}

interface OpenResultOptions {
  readonly logger: ExportLogger;
  /** How an empty traffic query result is downloaded again. @default 3 times, 2 s apart */
  readonly emptyTrafficResult?: Omit<TrafficResultOptions, 'logger'>;
}

/** A request that is known to be valid, ready to be sent. */
interface PreparedJob {
  /** What the log line of the submit shows of the request. */
  readonly logged: Readonly<Record<string, unknown>>;
  submit(client: PceClient): Promise<SubmitResult>;
}

/** One kind's job API and names, whatever its request type. */
export interface KindJobs {
  /** What the PCE calls one of these jobs in messages: "job", "traffic query". */
  readonly noun: string;
  readonly messages: { readonly submitted: string; readonly opened: string; readonly deleted: string };
  /** Checks the kind's part of the request and builds the PCE request; throws ExportConfigError before anything is sent. */
  prepare(request: ExportRequest, context: SubmitContext): PreparedJob;
  /** The kind's jobs on a client (poll and delete take the job href Submit returned). */
  jobs(client: PceClient): Pick<AsyncJobApi<unknown>, 'poll' | 'delete'>;
  /** Opens a finished job's result. */
  open(client: PceClient, resultHref: string, options: OpenResultOptions): Promise<Datafile>;
}

interface KindDefinition<Request> {
  readonly noun: string;
  readonly messages: KindJobs['messages'];
  api(client: PceClient): AsyncJobApi<Request>;
  request(request: ExportRequest, context: SubmitContext): Request;
  /** What the submit's log line shows. @default the export's path and query */
  logged?(request: ExportRequest): Readonly<Record<string, unknown>>;
  /** @default the API's `open` */
  open?(api: AsyncJobApi<Request>, resultHref: string, options: OpenResultOptions): Promise<Datafile>;
}

function defineKind<Request>(definition: KindDefinition<Request>): KindJobs {
  return {
    noun: definition.noun,
    messages: definition.messages,
    prepare(request, context) {
      const body = definition.request(request, context);
      return {
        logged: { path: request.path, query: request.query, ...definition.logged?.(request) },
        submit: (client) => definition.api(client).submit(body),
      };
    },
    jobs: (client) => definition.api(client),
    open: (client, resultHref, options) =>
      definition.open
        ? definition.open(definition.api(client), resultHref, options)
        : definition.api(client).open(resultHref),
  };
}

const KINDS: Readonly<Record<ExportKind, KindJobs>> = {
  collection: defineKind({
    noun: 'job',
    messages: { submitted: 'Submitted PCE async job', opened: 'Opened datafile', deleted: 'Deleted PCE job' },
    api: (client) => client.collections,
    request: (request) => ({ path: request.path, query: request.query }),
  }),
  traffic: defineKind({
    noun: 'traffic query',
    messages: {
      submitted: 'Submitted PCE traffic query',
      opened: 'Opened traffic query download',
      deleted: 'Deleted PCE traffic query',
    },
    api: (client) => client.traffic,
    request(request, context) {
      if (request.traffic === undefined) {
        throw new ExportConfigError('Invalid input: a traffic export needs its traffic query');
      }
      return trafficQueryBody(request.traffic, context);
    },
    logged: (request) => ({ traffic: request.traffic }),
    // A completed query can briefly serve an empty result: download it again before accepting it.
    open: (api, resultHref, options) =>
      openTrafficResult(api, resultHref, { ...options.emptyTrafficResult, logger: options.logger }),
  }),
};

/** The kind of an export request (a request without one is a collection, as before kinds existed). */
export function kindOf(request: Pick<ExportRequest, 'kind'>): KindJobs {
  return KINDS[request.kind ?? 'collection'];
}
