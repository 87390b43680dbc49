import { X509Certificate } from 'node:crypto';
import { PassThrough, pipeline, type Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { Agent, type Dispatcher, request } from 'undici';
import { ExportConfigError, type ExportError, isExportError } from '../contracts/errors';
import { PceProtocolError } from './errors';
import { apiUrl, collectionRequest, type PceBase, parsePceBase, resolveHref } from './hrefs';
import {
  cleanText,
  contentCoding,
  decodedBody,
  errorForStatus,
  header,
  headerValues,
  MAX_ERROR_BODY_BYTES,
  parsePceErrorBody,
  readCapped,
  statusLine,
  transportError,
  userAgent,
} from './http';
import { parseRetryAfter, resolveRetryAfterBounds } from './retry-after';
import { createTrafficApi } from './traffic';
import type {
  Datafile,
  JobStatus,
  PceClient,
  PceClientOptions,
  PceConnection,
  PollResult,
  SubmitResult,
} from './types';

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_HEADERS_TIMEOUT_MS = 30_000;
export const DEFAULT_BODY_TIMEOUT_MS = 60_000;
export const DEFAULT_RATE_LIMIT_WAIT_BUDGET_SECONDS = 20;
export const DEFAULT_RATE_LIMIT_RETRIES = 3;
/** A job document is a few hundred bytes; a poll body larger than this is not a job. */
export const MAX_JOB_BODY_BYTES = 1024 * 1024;
/**
 * Room for the datafile's bytes between undici and the decoder. When a response body's reader
 * pushes back, undici pauses its HTTP parser and puts the unparsed socket data back
 * (`socket.unshift`); each resume re-reads all of it and lets the socket read another 64 KiB. A
 * reader that takes one chunk per resume (gunzip holds 16 KiB) makes that leftover grow towards
 * the whole body, copied again on every resume: memory grows with the datafile and CPU with its
 * square. With this much room the parser takes all the socket holds, and the body is asked for
 * more only once the buffer has drained.
 */
export const DATAFILE_READ_BUFFER_BYTES = 1024 * 1024;
const MAX_PCE_MESSAGE_LENGTH = 1000;
const MAX_TIMESTAMP_LENGTH = 64;

/** Seams for tests. */
export interface PceClientRuntime {
  /** How the client waits out a 429's Retry-After. @default a timer */
  readonly sleep?: (ms: number) => Promise<void>;
}

type Method = 'GET' | 'DELETE' | 'POST';

interface Exchange {
  readonly method: Method;
  /** Org-relative href for messages. */
  readonly href: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Request body (POST), already serialised. */
  readonly body?: string;
  /** Error statuses that are answers here rather than failures (404 on DELETE). */
  readonly tolerate?: (status: number) => boolean;
}

/**
 * A client for the PCE's async-job protocol, for one org of one PCE. Every error it throws is an
 * ExportError whose name is the state machine's error and whose message never carries a
 * credential. Errors while streaming a datafile surface on the datafile's stream, the same way.
 */
export function createPceClient(
  connection: PceConnection,
  options: PceClientOptions = {},
  runtime: PceClientRuntime = {},
): PceClient {
  const base = parsePceBase(connection.baseUrl, connection.orgId);
  const { apiKey, apiSecret } = validateCredentials(connection);
  const basic = Buffer.from(`${apiKey}:${apiSecret}`, 'utf8').toString('base64');
  const redactor = new Redactor([apiSecret, basic, `${apiKey}:${apiSecret}`, apiKey]);
  const bounds = resolveRetryAfterBounds(options.retryAfter);
  const connectTimeoutMs = positive(options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 'connectTimeoutMs');
  const headersTimeoutMs = positive(options.headersTimeoutMs, DEFAULT_HEADERS_TIMEOUT_MS, 'headersTimeoutMs');
  const bodyTimeoutMs = positive(options.bodyTimeoutMs, DEFAULT_BODY_TIMEOUT_MS, 'bodyTimeoutMs');
  const waitBudgetSeconds = nonNegative(
    options.rateLimitWaitBudgetSeconds,
    DEFAULT_RATE_LIMIT_WAIT_BUDGET_SECONDS,
    'rateLimitWaitBudgetSeconds',
  );
  const rateLimitRetries = nonNegative(
    options.rateLimitRetries,
    DEFAULT_RATE_LIMIT_RETRIES,
    'rateLimitRetries',
  );
  if (!Number.isInteger(rateLimitRetries)) {
    throw new ExportConfigError('rateLimitRetries must be a whole number');
  }
  const extraCas = parseCaBundle(connection.caBundle);
  const sleep = runtime.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  // One keep-alive pool per client. TLS verification stays on; a private CA is trusted in
  // addition to the system roots, never instead of verification.
  const ownAgent = options.dispatcher
    ? undefined
    : new Agent({
        connect: {
          timeout: connectTimeoutMs,
          ...(extraCas.length > 0 ? { ca: [...rootCertificates, ...extraCas] } : {}),
        },
        headersTimeout: headersTimeoutMs,
        bodyTimeout: bodyTimeoutMs,
      });
  const dispatcher: Dispatcher = options.dispatcher ?? (ownAgent as Agent);
  let closed = false;

  const commonHeaders = {
    authorization: `Basic ${basic}`,
    'user-agent': userAgent(),
    accept: 'application/json',
  } as const;

  /** Sends one request, waiting out 429s within the budget; 4xx/5xx (not tolerated) throw. */
  async function send(exchange: Exchange): Promise<Dispatcher.ResponseData> {
    let waitedSeconds = 0;
    for (let retries = 0; ; retries++) {
      let response: Dispatcher.ResponseData;
      try {
        response = await request(exchange.url, {
          method: exchange.method,
          headers: exchange.headers,
          ...(exchange.body === undefined ? {} : { body: exchange.body }),
          dispatcher,
          headersTimeout: headersTimeoutMs,
          bodyTimeout: bodyTimeoutMs,
        });
      } catch (error) {
        throw transportError(error, { method: exchange.method, href: exchange.href, origin: base.origin });
      }
      const status = response.statusCode;
      if (status < 400 || exchange.tolerate?.(status)) return response;

      const retryAfterSeconds = parseRetryAfter(headerValues(response.headers, 'retry-after'), bounds);
      const detail = await readErrorDetail(response);
      if (
        status === 429 &&
        retries < rateLimitRetries &&
        waitedSeconds + retryAfterSeconds <= waitBudgetSeconds
      ) {
        waitedSeconds += retryAfterSeconds;
        await sleep(retryAfterSeconds * 1000);
        continue;
      }
      throw errorForStatus({
        method: exchange.method,
        href: exchange.href,
        status,
        detail,
        retryAfterSeconds,
        rateLimitRetries: retries,
      });
    }
  }

  /** Runs one client operation; whatever it throws leaves with credentials scrubbed. */
  async function guarded<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw redactor.error(error);
    }
  }

  const protocolError = (exchange: Pick<Exchange, 'method' | 'href'>, status: number, problem: string) =>
    new PceProtocolError(`${exchange.method} ${exchange.href} returned ${statusLine(status)} ${problem}`, {
      status,
      href: exchange.href,
    });

  return {
    traffic: createTrafficApi({
      base,
      send,
      guarded,
      headers: commonHeaders,
      retryAfterSeconds: (headers) => parseRetryAfter(headerValues(headers, 'retry-after'), bounds),
      readObject: (exchange, response, what, expected) => readJob(exchange, response, what, expected),
      streamBody(exchange, response, coding) {
        return streamDatafile(response.body, coding, (error) =>
          redactor.exportError(
            transportError(error, {
              method: exchange.method,
              href: exchange.href,
              origin: base.origin,
              during: 'failed while streaming the download',
            }),
          ),
        );
      },
      discard,
    }),

    submit(path, query = {}) {
      return guarded(async (): Promise<SubmitResult> => {
        const { href, url } = collectionRequest(base, path, query);
        const exchange: Exchange = {
          method: 'GET',
          href,
          url,
          headers: { ...commonHeaders, prefer: 'respond-async' },
        };
        const response = await send(exchange);
        await discard(response);
        if (response.statusCode !== 202) {
          throw protocolError(
            exchange,
            response.statusCode,
            'instead of 202 Accepted: the PCE did not run the request as an async job',
          );
        }
        const locations = headerValues(response.headers, 'location');
        if (locations.length > 1) {
          throw protocolError(exchange, 202, `with ${locations.length} Location headers instead of one`);
        }
        const jobHref = resolveHref(
          base,
          locations[0],
          'jobs',
          `the Location header of the 202 response to GET ${href}`,
        );
        return {
          jobHref,
          retryAfterSeconds: parseRetryAfter(headerValues(response.headers, 'retry-after'), bounds),
        };
      });
    },

    poll(jobHrefArgument) {
      return guarded(async (): Promise<PollResult> => {
        const jobHref = resolveHref(base, jobHrefArgument, 'jobs', 'the job href given to poll');
        const exchange: Exchange = {
          method: 'GET',
          href: jobHref,
          url: apiUrl(base, jobHref),
          headers: { ...commonHeaders, 'accept-encoding': 'gzip' },
        };
        const response = await send(exchange);
        const job = await readJob(exchange, response);
        const retryAfterSeconds = parseRetryAfter(headerValues(response.headers, 'retry-after'), bounds);
        return interpretJob(base, jobHref, job, retryAfterSeconds);
      });
    },

    openDatafile(resultHrefArgument) {
      return guarded(async (): Promise<Datafile> => {
        const href = resolveHref(
          base,
          resultHrefArgument,
          'datafiles',
          'the datafile href given to openDatafile',
        );
        const exchange: Exchange = {
          method: 'GET',
          href,
          url: apiUrl(base, href),
          headers: { ...commonHeaders, 'accept-encoding': 'gzip' },
        };
        const response = await send(exchange);
        if (response.statusCode !== 200) {
          await discard(response);
          throw protocolError(exchange, response.statusCode, 'instead of 200 OK with the datafile');
        }
        let coding: ReturnType<typeof contentCoding>;
        try {
          coding = contentCoding(response.headers, `GET ${href}`);
        } catch (error) {
          release(response.body);
          throw error;
        }
        const body = streamDatafile(response.body, coding, (error) =>
          redactor.exportError(
            transportError(error, {
              method: 'GET',
              href,
              origin: base.origin,
              during: 'failed while streaming the datafile',
            }),
          ),
        );
        const contentType = header(response.headers, 'content-type');
        const length = header(response.headers, 'content-length');
        const contentLength =
          coding === 'identity' && length !== undefined && /^\d{1,15}$/.test(length.trim())
            ? Number(length.trim())
            : undefined;
        return { body, contentLength, contentType };
      });
    },

    deleteJob(jobHrefArgument) {
      return guarded(async (): Promise<void> => {
        const jobHref = resolveHref(base, jobHrefArgument, 'jobs', 'the job href given to deleteJob');
        const exchange: Exchange = {
          method: 'DELETE',
          href: jobHref,
          url: apiUrl(base, jobHref),
          headers: commonHeaders,
          // Already gone is what we wanted.
          tolerate: (status) => status === 404,
        };
        const response = await send(exchange);
        await discard(response);
        const status = response.statusCode;
        if (status !== 404 && (status < 200 || status > 299)) {
          throw protocolError(exchange, status, 'instead of 204 No Content');
        }
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      await ownAgent?.close();
    },
  };
}

/**
 * Reads and parses a job document (or another small JSON object, named by `what`), bounded;
 * anything but a JSON object with one of the `expected` statuses is a PceProtocolError.
 */
async function readJob(
  exchange: Exchange,
  response: Dispatcher.ResponseData,
  what = 'job',
  expected: readonly number[] = [200],
): Promise<Record<string, unknown>> {
  const { statusCode: status, headers, body } = response;
  const fail = (problem: string): never => {
    release(body);
    throw new PceProtocolError(
      `${exchange.method} ${exchange.href} returned ${statusLine(status)} ${problem}`,
      {
        status,
        href: exchange.href,
      },
    );
  };
  if (!expected.includes(status))
    fail(`instead of ${expected.map(statusLine).join(' or ')} with the ${what}`);
  const contentType = header(headers, 'content-type');
  if (contentType === undefined || !/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(contentType.trim())) {
    fail(`with Content-Type ${JSON.stringify(cleanText(contentType ?? '(none)', 80))} instead of JSON`);
  }
  let coding: ReturnType<typeof contentCoding>;
  try {
    coding = contentCoding(headers, `${exchange.method} ${exchange.href}`);
  } catch (error) {
    release(body);
    throw error;
  }
  let read: { buffer: Buffer; truncated: boolean };
  try {
    read = await readCapped(decodedBody(body, coding), MAX_JOB_BODY_BYTES);
  } catch (error) {
    throw transportError(error, {
      method: exchange.method,
      href: exchange.href,
      origin: new URL(exchange.url).origin,
      during: `failed while reading the ${what}`,
    });
  }
  if (read.truncated) fail(`with a body larger than ${MAX_JOB_BODY_BYTES} bytes, which is not a ${what}`);
  const text = read.buffer.toString('utf8');
  if (text.trim() === '') fail(`with an empty body instead of the ${what}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    fail('with a body that is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    fail(
      `with ${parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : `a ${typeof parsed}`} instead of a ${what} object`,
    );
  }
  return parsed as Record<string, unknown>;
}

const CANCELLED = new Set(['cancelled', 'canceled']);
const STATUSES: ReadonlySet<string> = new Set<JobStatus>(['pending', 'running', 'done', 'failed']);

/** Turns a job document into a PollResult; an unknown status or a done job without a datafile is a PceProtocolError. */
function interpretJob(
  base: PceBase,
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
  if (!STATUSES.has(status)) {
    throw new PceProtocolError(
      `GET ${jobHref} returned the unknown job status ${JSON.stringify(cleanText(job.status, 40))}`,
      { href: jobHref, status: 200 },
    );
  }
  if (status === 'done') {
    const resultHref = resolveHref(base, result.href, 'datafiles', `result.href of the done job ${jobHref}`);
    return { status, resultHref, retryAfterSeconds, ...times };
  }
  if (status === 'failed') return { status, message: pceMessage, retryAfterSeconds, ...times };
  return { status: status as JobStatus, retryAfterSeconds, ...times };
}

function timestamp(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== ''
    ? cleanText(value, MAX_TIMESTAMP_LENGTH)
    : undefined;
}

/**
 * The datafile as the caller reads it: the decoded body piped into a PassThrough. Any error of
 * the body or of gunzip (cut off, corrupt, timed out), and a body that closes before its end,
 * destroys the returned stream with `mapError(error)`, so the caller's pipeline rejects with a
 * named error. Destroying the returned stream releases the connection.
 */
function streamDatafile(
  body: Readable,
  coding: ReturnType<typeof contentCoding>,
  mapError: (error: unknown) => ExportError,
): Readable {
  const out = new PassThrough();
  const buffered = new PassThrough({ highWaterMark: DATAFILE_READ_BUFFER_BYTES });
  // The body's errors reach `buffered` (and through it the decoder) unchanged.
  pipeline(body, buffered, () => {});
  const source = decodedBody(buffered, coding);
  let settled = false;
  const fail = (error: unknown) => {
    if (settled) return;
    settled = true;
    out.destroy(mapError(error));
  };
  source.on('error', fail);
  source.on('end', () => {
    settled = true;
  });
  source.on('close', () => {
    if (!settled && !out.destroyed) fail(new Error('the response body closed before its end'));
  });
  out.on('close', () => {
    settled = true;
    if (!source.destroyed) source.destroy();
    if (!buffered.destroyed) buffered.destroy();
    if (!body.destroyed) body.destroy();
  });
  source.pipe(out);
  return out;
}

async function readErrorDetail(response: Dispatcher.ResponseData) {
  try {
    const coding = contentCoding(response.headers, 'error body');
    const { buffer } = await readCapped(decodedBody(response.body, coding), MAX_ERROR_BODY_BYTES);
    return parsePceErrorBody(buffer.toString('utf8'), header(response.headers, 'content-type'));
  } catch {
    release(response.body);
    return {};
  }
}

async function discard(response: Dispatcher.ResponseData): Promise<void> {
  try {
    await response.body.dump({ limit: 64 * 1024 });
  } catch {
    release(response.body);
  }
}

/**
 * Drops a response body that will not be read. undici answers the destroy of an unread body with
 * an AbortError 'error' event; without a listener that is an uncaught exception, which would end
 * the Lambda process after the real (named) error had been thrown.
 */
function release(body: Readable): void {
  body.on('error', () => {});
  body.destroy();
}

function validateCredentials(connection: PceConnection): { apiKey: string; apiSecret: string } {
  const { apiKey, apiSecret } = connection;
  if (typeof apiKey !== 'string' || apiKey.trim() === '') {
    throw new ExportConfigError('The secret has no apiKey (the API key auth_username, api_…)');
  }
  if (apiKey.includes(':')) throw new ExportConfigError('The secret apiKey must not contain ":"');
  if (typeof apiSecret !== 'string' || apiSecret === '') {
    throw new ExportConfigError('The secret has no apiSecret');
  }
  return { apiKey, apiSecret };
}

/** The certificates of a PEM bundle, each checked to parse; none given means the system roots only. */
function parseCaBundle(caBundle: string | undefined): string[] {
  if (caBundle === undefined || caBundle.trim() === '') return [];
  if (typeof caBundle !== 'string') throw new ExportConfigError('The secret caBundle must be a PEM string');
  const blocks = caBundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) {
    throw new ExportConfigError('The secret caBundle holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  }
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block);
    } catch (cause) {
      throw new ExportConfigError(`Certificate ${index + 1} of the secret caBundle cannot be parsed`, {
        cause,
      });
    }
  });
  return blocks;
}

function positive(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ExportConfigError(`${field} must be a positive number`);
  }
  return value;
}

function nonNegative(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ExportConfigError(`${field} must be a number, 0 or more`);
  }
  return value;
}

/**
 * Keeps credentials out of everything the client throws. Messages and stacks are scrubbed; a
 * cause is kept as it is when it is a plain error (primitive fields only, no credential in its
 * text) and otherwise replaced by a scrubbed copy (name, message, code, stack), so nothing
 * that holds request state (a socket, the request's headers) hangs off the error.
 */
class Redactor {
  private readonly secrets: string[];

  constructor(secrets: string[]) {
    // Very short values would blank out ordinary words without protecting anything.
    this.secrets = [...new Set(secrets)]
      .filter((secret) => secret.length >= 4)
      .sort((a, b) => b.length - a.length);
  }

  text(value: string): string {
    let text = value;
    for (const secret of this.secrets) text = text.split(secret).join('[redacted]');
    return text;
  }

  private contains(value: string): boolean {
    return this.secrets.some((secret) => value.includes(secret));
  }

  /** Scrubs whatever an operation threw; ExportErrors keep their class. */
  error(error: unknown): Error {
    return isExportError(error) ? this.exportError(error) : (this.cause(error) as Error);
  }

  exportError<E extends ExportError>(error: E): E {
    error.message = this.text(error.message);
    if (error.stack) error.stack = this.text(error.stack);
    if (error.cause !== undefined) {
      Object.defineProperty(error, 'cause', {
        value: this.cause(error.cause),
        writable: true,
        configurable: true,
        enumerable: false,
      });
    }
    return error;
  }

  cause(value: unknown, depth = 0): unknown {
    if (!(value instanceof Error)) {
      return new Error(this.text(cleanText(String(value), 500)));
    }
    if (this.isClean(value, depth)) return value;
    const copy = new Error(this.text(value.message));
    copy.name = value.name;
    for (const field of ['code', 'errno', 'syscall'] as const) {
      const fieldValue = (value as unknown as Record<string, unknown>)[field];
      if (typeof fieldValue === 'string' || typeof fieldValue === 'number') {
        (copy as unknown as Record<string, unknown>)[field] = fieldValue;
      }
    }
    copy.stack = this.text(value.stack ?? `${copy.name}: ${copy.message}`);
    if (value.cause !== undefined && depth < 4) {
      Object.defineProperty(copy, 'cause', {
        value: this.cause(value.cause, depth + 1),
        writable: true,
        configurable: true,
        enumerable: false,
      });
    }
    return copy;
  }

  private isClean(error: Error, depth: number): boolean {
    if (this.contains(error.message) || this.contains(error.stack ?? '')) return false;
    for (const key of Object.getOwnPropertyNames(error)) {
      if (key === 'stack' || key === 'message' || key === 'cause') continue;
      const value = (error as unknown as Record<string, unknown>)[key];
      if (value !== null && (typeof value === 'object' || typeof value === 'function')) return false;
      if (typeof value === 'string' && this.contains(value)) return false;
    }
    if (error.cause === undefined) return true;
    return depth < 4 && error.cause instanceof Error && this.isClean(error.cause, depth + 1);
  }
}
