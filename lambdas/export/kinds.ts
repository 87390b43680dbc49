import type { z } from 'zod';
import { ExportConfigError } from '../contracts/errors';
import type { ExportKind, exportInputSchema } from '../contracts/input';
import type { ExportRequest } from '../contracts/state';
import type { PceClient } from '../pce/client';
import type { AsyncJobApi, Datafile, SubmitResult } from '../pce/jobs';
import { eventsQuery, resolveEventsWindow } from './events-window';
import type { ExportLogger } from './logger';
import { checkTrafficActors, resolveTrafficQuery, trafficQueryBody, trafficQueryName } from './traffic-query';
import { openTrafficResult, type TrafficResultOptions } from './traffic-result';

/*
 * What each kind of export is and runs on the PCE. Resolving the input, Submit, Poll and Fetch
 * look the kind up here and go through it; none of them knows the kinds. A new kind is one
 * entry: the input fields it takes and how they become its part of the export request, the API
 * it uses on the client, how its PCE request is built, and how it is named in messages (and, if
 * its results need it, how one is opened).
 */

/** A validated execution input, merged with the configured export it names. */
type ExportInputFields = z.output<typeof exportInputSchema>;

/** The input fields that belong to one kind or another. */
type KindField = 'path' | 'query' | 'traffic' | 'events' | 'changes';

interface ResolveContext {
  /** The execution's start time, which relative ranges count back from. */
  readonly now: Date;
  /** Names of the configured exports, for the message when the input names another. */
  readonly configured: readonly string[];
}

/** The kind's part of an export request. */
type KindRequest = Pick<ExportRequest, 'kind' | 'name' | 'path' | 'query' | 'traffic' | 'events' | 'changes'>;

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

/** What a submit got: the job, and whether it is one an earlier submit of the execution left. */
interface Submitted extends SubmitResult {
  readonly reused?: boolean;
}

/** A request that is known to be valid, ready to be sent. */
interface PreparedJob {
  /** What the log line of the submit shows of the request. */
  readonly logged: Readonly<Record<string, unknown>>;
  submit(client: PceClient): Promise<Submitted>;
}

/** One kind's fields, job API and names, whatever its request type. */
export interface KindJobs {
  /** The kind-specific input fields it takes. */
  readonly fields: readonly KindField[];
  /** Why a field of another kind does not go with this one. @default the owner's `onlyHere` */
  readonly notHere?: string;
  /** Why this kind's fields go with it only. */
  readonly onlyHere: string;
  /** Its part of the export request, from the validated input; throws ExportConfigError naming the field. */
  resolve(input: ExportInputFields, context: ResolveContext): KindRequest;
  /** What the PCE calls one of these jobs in messages: "job", "traffic query". */
  readonly noun: string;
  readonly messages: { readonly submitted: string; readonly opened: string; readonly deleted: string };
  /** Checks the kind's part of the request and builds the PCE request; throws ExportConfigError before anything is sent. */
  prepare(request: ExportRequest, context: SubmitContext): PreparedJob;
  /** The kind's jobs on a client (poll and delete take the job href Submit returned). */
  jobs(client: PceClient): Pick<AsyncJobApi<unknown>, 'poll' | 'delete'>;
  /** Opens a finished job's result. */
  open(client: PceClient, resultHref: string, options: OpenResultOptions): Promise<Datafile>;
  /**
   * An export of this kind that runs on its own (not as a snapshot member) is split into windows
   * that child executions run (`lambdas/export/traffic/`), rather than one job. Submit then only
   * resolves and checks the request and hands it on; `check` runs in place of `prepare`.
   */
  readonly fanOut?: { readonly kind: 'traffic'; check(request: ExportRequest, context: SubmitContext): void };
}

interface KindDefinition<Request>
  extends Pick<KindJobs, 'fields' | 'notHere' | 'onlyHere' | 'resolve' | 'fanOut'> {
  readonly noun: string;
  readonly messages: KindJobs['messages'];
  api(client: PceClient): AsyncJobApi<Request>;
  request(request: ExportRequest, context: SubmitContext): Request;
  /** What the submit's log line shows. @default the export's path and query */
  logged?(request: ExportRequest): Readonly<Record<string, unknown>>;
  /** @default the API's `open` */
  open?(api: AsyncJobApi<Request>, resultHref: string, options: OpenResultOptions): Promise<Datafile>;
  /** @default the API's `submit` */
  submit?(
    client: PceClient,
    body: Request,
    request: ExportRequest,
    context: SubmitContext,
  ): Promise<Submitted>;
}

function defineKind<Request>(definition: KindDefinition<Request>): KindJobs {
  return {
    fields: definition.fields,
    ...(definition.notHere === undefined ? {} : { notHere: definition.notHere }),
    onlyHere: definition.onlyHere,
    resolve: definition.resolve,
    ...(definition.fanOut === undefined ? {} : { fanOut: definition.fanOut }),
    noun: definition.noun,
    messages: definition.messages,
    prepare(request, context) {
      const body = definition.request(request, context);
      return {
        logged: { path: request.path, query: request.query, ...definition.logged?.(request) },
        submit: (client) =>
          definition.submit
            ? definition.submit(client, body, request, context)
            : definition.api(client).submit(body),
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
    fields: ['path', 'query', 'changes'],
    onlyHere: 'is only used by a collection export',
    resolve(input, context) {
      if (input.path === undefined) {
        const { configured } = context;
        throw new ExportConfigError(
          input.exportName === undefined
            ? 'Invalid input: input.path is required (e.g. "/workloads") unless input.exportName names a configured export'
            : `Invalid input: export "${input.exportName}" is not configured${configured.length ? ` (configured: ${configured.join(', ')})` : ''} and input.path is missing`,
        );
      }
      return {
        name: input.exportName ?? exportNameFromPath(input.path),
        path: input.path,
        query: input.query ?? {},
        ...(input.changes === undefined || input.changes === false
          ? {}
          : { changes: { fields: input.changes === true ? [] : input.changes.fields } }),
      };
    },
    noun: 'job',
    messages: { submitted: 'Submitted PCE async job', opened: 'Opened datafile', deleted: 'Deleted PCE job' },
    api: (client) => client.collections,
    request: (request) => ({ path: request.path, query: request.query }),
  }),
  traffic: defineKind({
    fields: ['traffic'],
    notHere: 'is not used by a traffic export: its query goes in "traffic"',
    onlyHere: 'is only used by a traffic export: set "kind" to "traffic"',
    resolve: (input, context) => ({
      kind: 'traffic',
      name: input.exportName ?? DEFAULT_TRAFFIC_EXPORT_NAME,
      path: TRAFFIC_PATH,
      query: {},
      traffic: resolveTrafficQuery(input.traffic ?? {}, context.now),
    }),
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
    fanOut: {
      kind: 'traffic',
      check(request, context) {
        if (request.traffic === undefined) {
          throw new ExportConfigError('Invalid input: a traffic export needs its traffic query');
        }
        checkTrafficActors(request.traffic, context.orgId);
      },
    },
    // A submit made again (after a timeout, a Lambda retry, a PCE that did not answer) finds the
    // query an earlier one may have left, by its name, which is the execution's own; a name the
    // input gives may be any execution's, so that one is always submitted.
    async submit(client, body, request, context) {
      if (request.traffic?.queryName === undefined && body.query_name === trafficQueryName(context)) {
        const found = await client.traffic.findByName(body.query_name);
        if (found) return { ...found, reused: true };
      }
      return client.traffic.submit(body);
    },
    // A completed query can briefly serve an empty result: download it again before accepting it.
    open: (api, resultHref, options) =>
      openTrafficResult(api, resultHref, { ...options.emptyTrafficResult, logger: options.logger }),
  }),
  // Audit events: a collection job on /events over a time window (both ends inclusive).
  events: defineKind({
    fields: ['events'],
    notHere: 'is not used by an events export: its window goes in "events"',
    onlyHere: 'is only used by an events export: set "kind" to "events"',
    resolve(input, context) {
      const events = resolveEventsWindow(input.events ?? {}, context.now);
      return {
        kind: 'events',
        name: input.exportName ?? DEFAULT_EVENTS_EXPORT_NAME,
        path: EVENTS_PATH,
        query: eventsQuery(events),
        events,
      };
    },
    noun: 'job',
    messages: { submitted: 'Submitted PCE async job', opened: 'Opened datafile', deleted: 'Deleted PCE job' },
    api: (client) => client.collections,
    request(request) {
      if (request.events === undefined) {
        throw new ExportConfigError('Invalid input: an events export needs its window');
      }
      return { path: EVENTS_PATH, query: eventsQuery(request.events) };
    },
    logged: (request) => ({ events: request.events }),
  }),
};

/** The kind of an export request (a request without one is a collection, as before kinds existed). */
export function kindOf(request: Pick<ExportRequest, 'kind'>): KindJobs {
  return KINDS[request.kind ?? 'collection'];
}

/** The kind that takes `field`. */
export function ownerOf(field: KindField): KindJobs {
  return Object.values(KINDS).find((kind) => kind.fields.includes(field)) as KindJobs;
}

/** Every kind-specific input field. */
export const KIND_FIELDS: readonly KindField[] = Object.values(KINDS).flatMap((kind) => kind.fields);

/** The API path a traffic export's object metadata and manifest name. */
const TRAFFIC_PATH = '/traffic_flows/async_queries';
const DEFAULT_TRAFFIC_EXPORT_NAME = 'traffic';
const EVENTS_PATH = '/events';
const DEFAULT_EVENTS_EXPORT_NAME = 'events';

/** `/sec_policy/draft/rule_sets` → `sec_policy-draft-rule_sets`. */
export function exportNameFromPath(path: string): string {
  return path.replace(/^\//, '').replaceAll('/', '-').slice(0, 64);
}
