import { PassThrough, type Readable, type Transform, type Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Dispatcher } from 'undici';
import type { ExportError } from '../contracts/errors';
import { PceProtocolError } from './errors';
import { apiUrl, type PceBase, resolveHref } from './hrefs';
import {
  type ContentCoding,
  cleanText,
  contentCoding,
  type Headers,
  header,
  statusLine,
  transportError,
} from './http';
import type { Datafile, JobStatus, PceTrafficApi, PollResult, SubmitResult } from './types';

/*
 * Explorer's async traffic queries (PRODUCT.md section 2):
 *
 *   POST /orgs/{org}/traffic_flows/async_queries      JSON body → 202 {href, status: "queued"}
 *   GET  /orgs/{org}/traffic_flows/async_queries/{id} → queued → working → completed
 *                                                       (or failed, cancel_requested, cancelled)
 *   GET  {href}/download                              → the flows as one JSON array, possibly
 *                                                       gzip-compressed bytes with or without
 *                                                       Content-Encoding
 *   DELETE {href}                                     → removes the query
 *
 * The requests go through the client's own transport (credentials, 429 waits, status mapping,
 * href validation, redaction); this module only knows the traffic API's shape.
 */

export const TRAFFIC_QUERIES = 'traffic_flows/async_queries' as const;
const MAX_MESSAGE_LENGTH = 1000;
const MAX_TIMESTAMP_LENGTH = 64;
/** gzip's magic number (RFC 1952). */
const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** One request as the client's transport sends it. */
export interface TrafficExchange {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Org-relative href for messages. */
  readonly href: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Error statuses that are answers here rather than failures (404 on DELETE). */
  readonly tolerate?: (status: number) => boolean;
}

/** What the traffic API borrows from the PCE client (see `createPceClient`). */
export interface TrafficTransport {
  readonly base: PceBase;
  /** Sends one request, waiting out 429s within the budget; 4xx/5xx (not tolerated) throw named errors. */
  send(exchange: TrafficExchange): Promise<Dispatcher.ResponseData>;
  /** Runs one operation; whatever it throws leaves with credentials scrubbed. */
  guarded<T>(operation: () => Promise<T>): Promise<T>;
  /** Authorization, User-Agent and `Accept: application/json`. */
  readonly headers: Readonly<Record<string, string>>;
  /** The response's Retry-After, parsed and clamped (the default when there is none). */
  retryAfterSeconds(headers: Headers): number;
  /** Reads a small JSON object body with one of the `expected` statuses; anything else is a PceProtocolError. */
  readObject(
    exchange: TrafficExchange,
    response: Dispatcher.ResponseData,
    what: string,
    expected: readonly number[],
  ): Promise<Record<string, unknown>>;
  /** The body decoded from its transport coding; its errors arrive as named, scrubbed errors. */
  streamBody(exchange: TrafficExchange, response: Dispatcher.ResponseData, coding: ContentCoding): Readable;
  /** Reads and drops a (small) body so the connection can be reused. */
  discard(response: Dispatcher.ResponseData): Promise<void>;
}

/** Explorer traffic queries over a PCE client's transport. */
export function createTrafficApi(transport: TrafficTransport): PceTrafficApi {
  const { base } = transport;
  const collectionHref = `/orgs/${base.orgId}/${TRAFFIC_QUERIES}`;
  const protocolError = (exchange: TrafficExchange, status: number, problem: string) =>
    new PceProtocolError(`${exchange.method} ${exchange.href} returned ${statusLine(status)} ${problem}`, {
      status,
      href: exchange.href,
    });

  return {
    submit(body) {
      return transport.guarded(async (): Promise<SubmitResult> => {
        const exchange: TrafficExchange = {
          method: 'POST',
          href: collectionHref,
          url: apiUrl(base, collectionHref),
          headers: { ...transport.headers, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        };
        const response = await transport.send(exchange);
        const query = await transport.readObject(exchange, response, 'traffic query', [202, 201]);
        const jobHref = resolveHref(
          base,
          query.href,
          TRAFFIC_QUERIES,
          `the href of the ${statusLine(response.statusCode)} response to POST ${collectionHref}`,
        );
        if (typeof query.status !== 'string' || !STATUSES.has(query.status.trim().toLowerCase())) {
          throw protocolError(
            exchange,
            response.statusCode,
            `with the ${describeStatus(query.status)} for the new traffic query ${jobHref}`,
          );
        }
        return { jobHref, retryAfterSeconds: transport.retryAfterSeconds(response.headers) };
      });
    },

    poll(queryHrefArgument) {
      return transport.guarded(async (): Promise<PollResult> => {
        const queryHref = resolveHref(
          base,
          queryHrefArgument,
          TRAFFIC_QUERIES,
          'the traffic query href given to poll',
        );
        const exchange: TrafficExchange = {
          method: 'GET',
          href: queryHref,
          url: apiUrl(base, queryHref),
          headers: { ...transport.headers, 'accept-encoding': 'gzip' },
        };
        const response = await transport.send(exchange);
        const query = await transport.readObject(exchange, response, 'traffic query', [200]);
        return interpretQuery(base, queryHref, query, transport.retryAfterSeconds(response.headers));
      });
    },

    openDownload(downloadHrefArgument) {
      return transport.guarded(async (): Promise<Datafile> => {
        const href = resolveDownloadHref(
          base,
          downloadHrefArgument,
          'the download href given to openDownload',
        );
        const exchange: TrafficExchange = {
          method: 'GET',
          href,
          url: apiUrl(base, href),
          headers: { ...transport.headers, 'accept-encoding': 'gzip' },
        };
        const response = await transport.send(exchange);
        if (response.statusCode !== 200) {
          await transport.discard(response);
          throw protocolError(exchange, response.statusCode, 'instead of 200 OK with the traffic flows');
        }
        let coding: ContentCoding;
        try {
          coding = contentCoding(response.headers, `GET ${href}`);
        } catch (error) {
          // Without a listener, the AbortError of destroying an unread body would be uncaught.
          response.body.on('error', () => {});
          response.body.destroy();
          throw error;
        }
        const decoded = transport.streamBody(exchange, response, coding);
        const body = gunzipIfCompressed(decoded, (error) =>
          transportError(error, {
            method: 'GET',
            href,
            origin: base.origin,
            during: 'failed while decompressing the download',
          }),
        );
        return { body, contentType: header(response.headers, 'content-type') };
      });
    },

    delete(queryHrefArgument) {
      return transport.guarded(async (): Promise<void> => {
        const queryHref = resolveHref(
          base,
          queryHrefArgument,
          TRAFFIC_QUERIES,
          'the traffic query href given to delete',
        );
        const exchange: TrafficExchange = {
          method: 'DELETE',
          href: queryHref,
          url: apiUrl(base, queryHref),
          headers: transport.headers,
          // Already gone is what we wanted.
          tolerate: (status) => status === 404,
        };
        const response = await transport.send(exchange);
        await transport.discard(response);
        const status = response.statusCode;
        if (status !== 404 && (status < 200 || status > 299)) {
          throw protocolError(exchange, status, 'instead of 204 No Content');
        }
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
  base: PceBase,
  queryHref: string,
  query: Record<string, unknown>,
  retryAfterSeconds: number,
): PollResult {
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
        : resolveDownloadHref(base, query.result, `the result of the completed traffic query ${queryHref}`);
    if (resultHref !== `${queryHref}/download`) {
      throw new PceProtocolError(
        `The result of the completed traffic query ${queryHref} names another query's download (${resultHref})`,
        { href: queryHref, status: 200 },
      );
    }
    return { status, resultHref, retryAfterSeconds, ...times };
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
export function resolveDownloadHref(base: PceBase, raw: unknown, source: string): string {
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
  return `${resolveHref(base, raw.slice(0, -suffix.length), TRAFFIC_QUERIES, source)}${suffix}`;
}

function timestamp(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== ''
    ? cleanText(value, MAX_TIMESTAMP_LENGTH)
    : undefined;
}

/**
 * The body with gzip undone when its first bytes are gzip's magic number, whatever
 * Content-Encoding said (the PCE may send a gzip file as plain `application/json`, and a body
 * that was already decoded from a transport gzip may itself be gzip). Anything else passes
 * through unchanged. Errors of `source` pass through as they are; errors of the decompression
 * (corrupt or cut off) are mapped by `mapError`. Destroying the returned stream destroys `source`.
 */
export function gunzipIfCompressed(source: Readable, mapError: (error: unknown) => ExportError): Readable {
  const out = new PassThrough();
  const head: Buffer[] = [];
  let headBytes = 0;
  let decided = false;
  let failed = false;
  let gunzip: Transform | undefined;

  const fail = (error: Error) => {
    if (failed) return;
    failed = true;
    out.destroy(error);
  };
  const decide = (ended: boolean) => {
    decided = true;
    source.off('data', onData);
    source.off('end', onEnd);
    const prefix = Buffer.concat(head);
    const compressed = prefix[0] === GZIP_MAGIC[0] && prefix[1] === GZIP_MAGIC[1];
    let target: Writable = out;
    if (compressed) {
      gunzip = createGunzip();
      gunzip.on('error', (error) => fail(mapError(error)));
      gunzip.pipe(out);
      target = gunzip;
    }
    target.write(prefix);
    if (ended) target.end();
    else source.pipe(target);
  };
  const onData = (chunk: Buffer) => {
    head.push(chunk);
    headBytes += chunk.length;
    if (headBytes < GZIP_MAGIC.length) return;
    // pipe() resumes the source once it is attached.
    source.pause();
    decide(false);
  };
  const onEnd = () => {
    if (!decided) decide(true);
  };

  source.on('error', fail);
  source.on('data', onData);
  source.on('end', onEnd);
  out.on('close', () => {
    gunzip?.destroy();
    if (!source.destroyed) source.destroy();
  });
  return out;
}
