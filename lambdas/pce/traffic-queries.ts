import { TRAFFIC_QUERIES } from '../contracts/patterns';
import type { JobStatus } from '../contracts/state';
import { deleteAnswered, timestamp } from './collection-jobs';
import { PceProtocolError } from './errors';
import { cleanText, header, statusLine, transportError } from './http';
import type { AsyncJobApi, PollResult, SubmitResult } from './jobs';
import { getJsonArray } from './json-list';
import { gunzipIfCompressed } from './streams';
import type { Transport } from './transport';
import type { TrafficQueryBody } from './types';

/*
 * Explorer's async traffic queries (PRODUCT.md section 2):
 *
 *   POST /orgs/{org}/traffic_flows/async_queries      JSON body → 202 {href, status: "queued"}
 *   GET  /orgs/{org}/traffic_flows/async_queries/{id} → queued → working → completed
 *                                                       (or failed, cancel_requested, cancelled)
 *   GET  {href}/download                              → the flows as one JSON array, possibly
 *                                                       gzip-compressed bytes with or without
 *                                                       Content-Encoding
 *   PUT  {href}/update_rules                          → draft policy decisions for a completed
 *                                                       query: poll until `rules.status` is completed
 *   GET  /orgs/{org}/traffic_flows/async_queries      → every query, to find one by its name
 *   DELETE {href}                                     → removes the query
 *
 * A completed query reports `flows_count` (rows in its result) and `matches_count` (rows that
 * matched): fewer rows than matches means the result was cut at max_results.
 *
 * Statuses are mapped onto the job ones: `queued` → pending, `working` → running, `completed` →
 * done, `failed`, `cancel_requested` and `cancelled` → failed (with a message); anything else is
 * a PceProtocolError.
 */

const MAX_MESSAGE_LENGTH = 1000;

/** A traffic query's poll: the job status, and what a completed query reports. */
interface TrafficPollResult extends PollResult {
  /** Rows in the result, when the PCE reports it. */
  readonly flowsCount?: number;
  /** Rows that matched, when the PCE reports it. */
  readonly matchesCount?: number;
  /** `rules.status` once update_rules was sent (`queued`, `working`, `completed`, `failed`, …), lowercase. */
  readonly rulesStatus?: string;
}

/** A traffic query found by its name. */
interface NamedTrafficQuery {
  readonly href: string;
  /** The PCE's status word, lowercase. */
  readonly status: string;
}

/** Traffic queries, which can also be found by the name they were submitted with. */
export interface TrafficQueryApi extends AsyncJobApi<TrafficQueryBody> {
  /**
   * The newest query of this org named `queryName` that has not failed (`GET async_queries`),
   * as a SubmitResult, or undefined when there is none.
   */
  findByName(queryName: string): Promise<SubmitResult | undefined>;
}

/** Explorer's async traffic queries as a traffic run uses them: what only traffic queries have. */
export interface TrafficRunQueryApi extends TrafficQueryApi {
  poll(queryHref: string): Promise<TrafficPollResult>;
  /** Asks a completed query for draft policy decisions (`PUT {href}/update_rules`). */
  updateRules(queryHref: string): Promise<void>;
  /** The org's queries named `name`, newest first, whatever their status: a retried window submit finds what it created. */
  listByName(name: string): Promise<NamedTrafficQuery[]>;
}

export function createTrafficQueries(transport: Transport): TrafficRunQueryApi {
  const { base } = transport;
  const collectionHref = `/orgs/${base.orgId}/${TRAFFIC_QUERIES}`;

  return {
    findByName(queryName) {
      return transport.guarded(async () => {
        const exchange = transport.exchange('GET', collectionHref);
        const response = await transport.send(exchange);
        const queries = await transport.readList(exchange, response, 'traffic queries');
        const retryAfterSeconds = transport.retryAfterSeconds(response.headers);
        // The PCE lists the newest first.
        for (const query of queries) {
          if (query === null || typeof query !== 'object') continue;
          const { href, status, query_parameters: params } = query as Record<string, unknown>;
          const name = (params as { query_name?: unknown } | null | undefined)?.query_name;
          if (name !== queryName) continue;
          const mapped = typeof status === 'string' ? STATUSES.get(status.trim().toLowerCase()) : undefined;
          if (mapped === undefined || mapped === 'failed') continue;
          const jobHref = transport.href(
            href,
            TRAFFIC_QUERIES,
            `the href of a query listed by GET ${collectionHref}`,
          );
          return { jobHref, retryAfterSeconds };
        }
        return undefined;
      });
    },

    submit(body) {
      return transport.guarded(async () => {
        const exchange = transport.exchange('POST', collectionHref, {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        const response = await transport.send(exchange);
        const query = await transport.readObject(exchange, response, 'traffic query', [202, 201]);
        const jobHref = transport.href(
          query.href,
          TRAFFIC_QUERIES,
          `the href of the ${statusLine(response.statusCode)} response to POST ${collectionHref}`,
        );
        if (typeof query.status !== 'string' || !STATUSES.has(query.status.trim().toLowerCase())) {
          throw transport.protocolError(
            exchange,
            response.statusCode,
            `with the ${describeStatus(query.status)} for the new traffic query ${jobHref}`,
          );
        }
        return { jobHref, retryAfterSeconds: transport.retryAfterSeconds(response.headers) };
      });
    },

    poll(queryHrefArgument) {
      return transport.guarded(async () => {
        const queryHref = transport.href(
          queryHrefArgument,
          TRAFFIC_QUERIES,
          'the traffic query href given to poll',
        );
        const exchange = transport.exchange('GET', queryHref, { headers: { 'accept-encoding': 'gzip' } });
        const response = await transport.send(exchange);
        const query = await transport.readObject(exchange, response, 'traffic query');
        return interpretQuery(transport, queryHref, query, transport.retryAfterSeconds(response.headers));
      });
    },

    open(downloadHrefArgument) {
      return transport.guarded(async () => {
        const href = resolveDownloadHref(
          transport,
          downloadHrefArgument,
          'the download href given to openDownload',
        );
        const exchange = transport.exchange('GET', href, { headers: { 'accept-encoding': 'gzip' } });
        const response = await transport.send(exchange);
        if (response.statusCode !== 200) {
          await transport.discard(response);
          throw transport.protocolError(
            exchange,
            response.statusCode,
            'instead of 200 OK with the traffic flows',
          );
        }
        const { body: decoded } = transport.openBody(exchange, response, 'download');
        const body = gunzipIfCompressed(decoded, (error) =>
          transportError(error, {
            method: 'GET',
            href,
            origin: base.origin,
            during: 'failed while decompressing the download',
            source: transport.credentialSource,
          }),
        );
        return { body, contentType: header(response.headers, 'content-type') };
      });
    },

    updateRules(queryHrefArgument) {
      return transport.guarded(async () => {
        const queryHref = transport.href(
          queryHrefArgument,
          TRAFFIC_QUERIES,
          'the traffic query href given to updateRules',
        );
        const exchange = transport.exchange('PUT', `${queryHref}/update_rules`);
        const response = await transport.send(exchange);
        await transport.discard(response);
        if (response.statusCode < 200 || response.statusCode > 299) {
          throw transport.protocolError(exchange, response.statusCode, 'instead of 202 Accepted');
        }
      });
    },

    listByName(name) {
      return transport.guarded(async () => {
        const queries = await getJsonArray(transport, collectionHref, 'traffic queries');
        const found: { href: string; status: string; created: string }[] = [];
        for (const entry of queries) {
          const query = (entry ?? {}) as Record<string, unknown>;
          const parameters = (query.query_parameters ?? {}) as Record<string, unknown>;
          if (parameters.query_name !== name || typeof query.status !== 'string') continue;
          found.push({
            href: transport.href(query.href, TRAFFIC_QUERIES, `the href of the traffic query named ${name}`),
            status: query.status.trim().toLowerCase(),
            created: typeof query.created_at === 'string' ? query.created_at : '',
          });
        }
        found.sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
        return found.map(({ href, status }) => ({ href, status }));
      });
    },

    delete(queryHrefArgument) {
      return transport.guarded(async () => {
        const queryHref = transport.href(
          queryHrefArgument,
          TRAFFIC_QUERIES,
          'the traffic query href given to delete',
        );
        await deleteAnswered(transport, queryHref);
      });
    },
  };
}

/** PCE traffic query statuses and the job status each one counts as. */
const STATUSES: ReadonlyMap<string, JobStatus> = new Map([
  ['queued', 'pending'],
  ['working', 'running'],
  ['completed', 'done'],
  ['failed', 'failed'],
  ['cancel_requested', 'failed'],
  ['cancelled', 'failed'],
  ['canceled', 'failed'],
]);

function describeStatus(value: unknown): string {
  return typeof value === 'string'
    ? `unknown status ${JSON.stringify(cleanText(value, 40))}`
    : value === undefined
      ? 'status missing'
      : `status of type ${value === null ? 'null' : typeof value}`;
}

/**
 * Turns a traffic query document into a PollResult. A completed query's download href is its
 * `result` when the PCE names one (it must be this query's `/download`), else `{href}/download`.
 */
function interpretQuery(
  transport: Transport,
  queryHref: string,
  query: Record<string, unknown>,
  retryAfterSeconds: number,
): TrafficPollResult {
  const raw = typeof query.status === 'string' ? query.status.trim().toLowerCase() : undefined;
  const status = raw === undefined ? undefined : STATUSES.get(raw);
  if (raw === undefined || status === undefined) {
    throw new PceProtocolError(
      `GET ${queryHref} returned a traffic query with the ${describeStatus(query.status)}`,
      {
        href: queryHref,
        status: 200,
      },
    );
  }
  const terminal = status === 'done' || status === 'failed';
  const times = {
    requestedAt: timestamp(query.created_at),
    terminatedAt: terminal ? timestamp(query.updated_at) : undefined,
  };
  if (status === 'done') {
    const resultHref =
      query.result === undefined || query.result === null
        ? `${queryHref}/download`
        : resolveDownloadHref(
            transport,
            query.result,
            `the result of the completed traffic query ${queryHref}`,
          );
    if (resultHref !== `${queryHref}/download`) {
      throw new PceProtocolError(
        `The result of the completed traffic query ${queryHref} names another query's download (${resultHref})`,
        { href: queryHref, status: 200 },
      );
    }
    const flowsCount = count(query.flows_count);
    const matchesCount = count(query.matches_count);
    const rules =
      query.rules !== null && typeof query.rules === 'object' ? (query.rules as Record<string, unknown>) : {};
    return {
      status,
      resultHref,
      retryAfterSeconds,
      ...times,
      ...(flowsCount === undefined ? {} : { flowsCount }),
      ...(matchesCount === undefined ? {} : { matchesCount }),
      ...(typeof rules.status === 'string'
        ? { rulesStatus: cleanText(rules.status, 40).trim().toLowerCase() }
        : {}),
    };
  }
  if (status === 'failed') {
    const reason = pceMessage(query);
    const message =
      raw === 'failed'
        ? reason
        : `The PCE traffic query ${queryHref} was cancelled (${raw})${reason ? `: ${reason}` : ''}`;
    return { status, message, retryAfterSeconds, ...times };
  }
  return { status, retryAfterSeconds, ...times };
}

/** A count the PCE reported: a whole number, or undefined (the rows are then counted instead). */
function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** The PCE's explanation of a failed query, wherever this PCE version puts it. */
function pceMessage(query: Record<string, unknown>): string | undefined {
  const result =
    query.result !== null && typeof query.result === 'object'
      ? (query.result as Record<string, unknown>)
      : {};
  for (const value of [query.error_message, query.message, result.message, query.error]) {
    if (typeof value === 'string' && value.trim() !== '') return cleanText(value, MAX_MESSAGE_LENGTH);
  }
  return undefined;
}

/**
 * Resolves an untrusted download href (`/orgs/1/traffic_flows/async_queries/<id>/download`,
 * relative, under `/api/v2` or absolute) to its normalised form; anything else is a
 * PceProtocolError naming `source`.
 */
function resolveDownloadHref(transport: Transport, raw: unknown, source: string): string {
  const { base } = transport;
  const suffix = '/download';
  if (typeof raw !== 'string' || !raw.endsWith(suffix)) {
    const shown =
      typeof raw === 'string'
        ? JSON.stringify(cleanText(raw, 200))
        : `of type ${raw === null ? 'null' : typeof raw}`;
    throw new PceProtocolError(
      `${source.charAt(0).toUpperCase()}${source.slice(1)} ${shown} is not a download href; expected /orgs/${base.orgId}/${TRAFFIC_QUERIES}/{id}/download on ${base.origin}`,
    );
  }
  return `${transport.href(raw.slice(0, -suffix.length), TRAFFIC_QUERIES, source)}${suffix}`;
}
