import { PceProtocolError } from './errors';
import { collectionRequest } from './hrefs';
import { cleanText, header, headerValues } from './http';
import type { AsyncJobApi, PollResult } from './jobs';
import type { Transport } from './transport';

/*
 * Collection jobs (PRODUCT.md section 2):
 *
 *   GET {collection}[?filters] with Prefer: respond-async → 202, Location: /orgs/{org}/jobs/{id}
 *   GET /orgs/{org}/jobs/{id}                            → pending → running → done (result.href) | failed
 *   GET /orgs/{org}/datafiles/{id}                       → the collection as one JSON array
 *   DELETE /orgs/{org}/jobs/{id}                         → removes the job
 */

/** An org-relative collection and its filters, e.g. `{path: '/workloads', query: {managed: 'true'}}`. */
export interface CollectionQuery {
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
}

const MAX_PCE_MESSAGE_LENGTH = 1000;
const MAX_TIMESTAMP_LENGTH = 64;
const CANCELLED = new Set(['cancelled', 'canceled']);

export function createCollectionJobs(transport: Transport): AsyncJobApi<CollectionQuery> {
  const { base } = transport;
  return {
    submit({ path, query = {} }) {
      return transport.guarded(async () => {
        const { href, url } = collectionRequest(base, path, query);
        const exchange = {
          ...transport.exchange('GET', href, { headers: { prefer: 'respond-async' } }),
          url,
        };
        const response = await transport.send(exchange);
        await transport.discard(response);
        if (response.statusCode !== 202) {
          throw transport.protocolError(
            exchange,
            response.statusCode,
            'instead of 202 Accepted: the PCE did not run the request as an async job',
          );
        }
        const locations = headerValues(response.headers, 'location');
        if (locations.length > 1) {
          throw transport.protocolError(
            exchange,
            202,
            `with ${locations.length} Location headers instead of one`,
          );
        }
        const jobHref = transport.href(
          locations[0],
          'jobs',
          `the Location header of the 202 response to GET ${href}`,
        );
        return { jobHref, retryAfterSeconds: transport.retryAfterSeconds(response.headers) };
      });
    },

    poll(jobHrefArgument) {
      return transport.guarded(async () => {
        const jobHref = transport.href(jobHrefArgument, 'jobs', 'the job href given to poll');
        const exchange = transport.exchange('GET', jobHref, { headers: { 'accept-encoding': 'gzip' } });
        const response = await transport.send(exchange);
        const job = await transport.readObject(exchange, response, 'job');
        return interpretJob(transport, jobHref, job, transport.retryAfterSeconds(response.headers));
      });
    },

    open(resultHrefArgument) {
      return transport.guarded(async () => {
        const href = transport.href(
          resultHrefArgument,
          'datafiles',
          'the datafile href given to openDatafile',
        );
        const exchange = transport.exchange('GET', href, { headers: { 'accept-encoding': 'gzip' } });
        const response = await transport.send(exchange);
        if (response.statusCode !== 200) {
          await transport.discard(response);
          throw transport.protocolError(exchange, response.statusCode, 'instead of 200 OK with the datafile');
        }
        const { body, coding } = transport.openBody(exchange, response, 'datafile');
        const length = header(response.headers, 'content-length');
        const contentLength =
          coding === 'identity' && length !== undefined && /^\d{1,15}$/.test(length.trim())
            ? Number(length.trim())
            : undefined;
        return { body, contentLength, contentType: header(response.headers, 'content-type') };
      });
    },

    delete(jobHrefArgument) {
      return transport.guarded(async () => {
        const jobHref = transport.href(jobHrefArgument, 'jobs', 'the job href given to deleteJob');
        await deleteAnswered(transport, jobHref);
      });
    },
  };
}

/** DELETE an href; 404 (already gone) is what was wanted, anything but 2xx a PceProtocolError. */
export async function deleteAnswered(transport: Transport, href: string): Promise<void> {
  const exchange = transport.exchange('DELETE', href, { tolerate: (status) => status === 404 });
  const response = await transport.send(exchange);
  await transport.discard(response);
  const status = response.statusCode;
  if (status !== 404 && (status < 200 || status > 299)) {
    throw transport.protocolError(exchange, status, 'instead of 204 No Content');
  }
}

/** A timestamp the PCE reported, bounded for messages and state. */
export function timestamp(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== ''
    ? cleanText(value, MAX_TIMESTAMP_LENGTH)
    : undefined;
}

/** Turns a job document into a PollResult; an unknown status or a done job without a datafile is a PceProtocolError. */
function interpretJob(
  transport: Transport,
  jobHref: string,
  job: Record<string, unknown>,
  retryAfterSeconds: number,
): PollResult {
  const result =
    job.result !== null && typeof job.result === 'object' ? (job.result as Record<string, unknown>) : {};
  const times = {
    requestedAt: timestamp(job.requested_at),
    terminatedAt: timestamp(job.terminated_at),
  };
  const pceMessage =
    typeof result.message === 'string' && result.message.trim() !== ''
      ? cleanText(result.message, MAX_PCE_MESSAGE_LENGTH)
      : undefined;
  if (typeof job.status !== 'string') {
    throw new PceProtocolError(`GET ${jobHref} returned a job without a status`, {
      href: jobHref,
      status: 200,
    });
  }
  const status = job.status.trim().toLowerCase();
  if (CANCELLED.has(status)) {
    const message = `The PCE job ${jobHref} was cancelled${pceMessage ? `: ${pceMessage}` : ''}`;
    return { status: 'failed', message, retryAfterSeconds, ...times };
  }
  if (status === 'done') {
    const resultHref = transport.href(result.href, 'datafiles', `result.href of the done job ${jobHref}`);
    return { status, resultHref, retryAfterSeconds, ...times };
  }
  if (status === 'failed') return { status, message: pceMessage, retryAfterSeconds, ...times };
  if (status === 'pending' || status === 'running') return { status, retryAfterSeconds, ...times };
  throw new PceProtocolError(
    `GET ${jobHref} returned the unknown job status ${JSON.stringify(cleanText(job.status, 40))}`,
    { href: jobHref, status: 200 },
  );
}
