import { X509Certificate } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import {
  type Credential,
  type CredentialSource,
  certificateIssue,
  credentialIssue,
  secretSource,
} from '../contracts/credentials';
import { ExportConfigError } from '../contracts/errors';
import { createDispatcher, loadUndici, proxyFailure } from './dispatcher';
import { PceProtocolError } from './errors';
import { apiUrl, type HrefKind, type PceBase, parsePceBase, resolveHref } from './hrefs';
import {
  type ContentCoding,
  contentCoding,
  decodedBody,
  errorForStatus,
  type Headers,
  header,
  headerValues,
  MAX_ERROR_BODY_BYTES,
  parsePceErrorBody,
  readCapped,
  statusLine,
  transportError,
  userAgent,
} from './http';
import { readJson, release } from './json-body';
import { Redactor } from './redact';
import { parseRetryAfter, resolveRetryAfterBounds } from './retry-after';
import { streamDatafile } from './streams';
import type { PceClientOptions, PceConnection } from './types';

/*
 * One transport per PCE client: the connection pool, the credentials and their redaction, 429
 * waits, the mapping of statuses and transport failures to named errors, href validation and
 * bounded reads of small JSON bodies. The job implementations only know their API's shape.
 */

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_HEADERS_TIMEOUT_MS = 30_000;
const DEFAULT_BODY_TIMEOUT_MS = 60_000;
const DEFAULT_RATE_LIMIT_WAIT_BUDGET_SECONDS = 20;
const DEFAULT_RATE_LIMIT_RETRIES = 3;
/** A job document is a few hundred bytes; a poll body larger than this is not a job. */

/** Seams for tests. */
export interface PceClientRuntime {
  /** How the client waits out a 429's Retry-After. @default a timer */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** One request as the transport sends it. */
interface Exchange {
  readonly method: 'GET' | 'DELETE' | 'POST' | 'PUT';
  /** Org-relative href for messages. */
  readonly href: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Request body (POST), already serialised. */
  readonly body?: string;
  /** Error statuses that are answers here rather than failures (404 on DELETE). */
  readonly tolerate?: (status: number) => boolean;
}

type Response = Dispatcher.ResponseData;

export interface Transport {
  readonly base: PceBase;
  /** Where the credentials and the CA come from, as messages name it. */
  readonly credentialSource: CredentialSource;
  /** A request to an org-relative href with the credentials, User-Agent and `Accept: application/json`. */
  exchange(
    method: Exchange['method'],
    href: string,
    extra?: Pick<Exchange, 'body' | 'tolerate'> & { readonly headers?: Readonly<Record<string, string>> },
  ): Exchange;
  /** Sends one request, waiting out 429s within the budget; 4xx/5xx (not tolerated) throw named errors. */
  send(exchange: Exchange): Promise<Response>;
  /** Runs one operation; whatever it throws leaves with credentials scrubbed. */
  guarded<T>(operation: () => Promise<T>): Promise<T>;
  /** Resolves an untrusted href of `kind` against the PCE (see `resolveHref`). */
  href(raw: unknown, kind: HrefKind, source: string): string;
  /** The response's Retry-After, parsed and clamped (the default when there is none). */
  retryAfterSeconds(headers: Headers): number;
  /** Reads a small JSON object body with one of the `expected` statuses; anything else is a PceProtocolError. */
  readObject(
    exchange: Exchange,
    response: Response,
    what: string,
    expected?: readonly number[],
  ): Promise<Record<string, unknown>>;
  /** Reads a small JSON array body (200 OK); anything else is a PceProtocolError. */
  readList(exchange: Exchange, response: Response, what: string): Promise<unknown[]>;
  /** A 200 body as a stream, decoded from its transport coding; its errors arrive named and scrubbed. */
  openBody(exchange: Exchange, response: Response, what: string): { body: Readable; coding: ContentCoding };
  /** Reads and drops a (small) body so the connection can be reused. */
  discard(response: Response): Promise<void>;
  /** `METHOD href returned STATUS problem` as a PceProtocolError. */
  protocolError(exchange: Exchange, status: number, problem: string): PceProtocolError;
  close(): Promise<void>;
}

export function createTransport(
  connection: PceConnection,
  options: PceClientOptions = {},
  runtime: PceClientRuntime = {},
): Transport {
  const base = parsePceBase(connection.baseUrl, connection.orgId);
  const source = connection.credentialSource ?? secretSource();
  const { apiKey, apiSecret } = validateCredentials(connection, source);
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
  const extraCas = parseCaBundle(connection.caBundle, source);
  const sleep = runtime.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  // One keep-alive pool per client, straight to the PCE or through the proxy, created with the
  // first request (undici is loaded then, not when the handler module is). TLS verification
  // stays on; a private CA is trusted in addition to the system roots, never instead of
  // verification.
  let ownAgent: Promise<Dispatcher> | undefined;
  let closed = false;
  const dispatcher = (): Promise<Dispatcher> => {
    if (options.dispatcher) return Promise.resolve(options.dispatcher);
    ownAgent ??= createDispatcher({
      connectTimeoutMs,
      headersTimeoutMs,
      bodyTimeoutMs,
      extraCas,
      ...(options.proxy ? { proxy: options.proxy } : {}),
    }).then(async (agent) => {
      // A request after close() finds the pool closed, as it would had it been created earlier.
      if (closed) await agent.close();
      return agent;
    });
    return ownAgent;
  };

  const commonHeaders = {
    authorization: `Basic ${basic}`,
    'user-agent': userAgent(),
    accept: 'application/json',
  } as const;
  const retryAfterSeconds = (headers: Headers) =>
    parseRetryAfter(headerValues(headers, 'retry-after'), bounds);
  const protocolError = (exchange: Exchange, status: number, problem: string) =>
    new PceProtocolError(`${exchange.method} ${exchange.href} returned ${statusLine(status)} ${problem}`, {
      status,
      href: exchange.href,
    });

  return {
    base,
    credentialSource: source,
    exchange: (method, href, extra = {}) => ({
      method,
      href,
      url: apiUrl(base, href),
      headers: { ...commonHeaders, ...extra.headers },
      ...(extra.body === undefined ? {} : { body: extra.body }),
      ...(extra.tolerate === undefined ? {} : { tolerate: extra.tolerate }),
    }),

    async send(exchange) {
      let waitedSeconds = 0;
      const [{ request }, pool] = await Promise.all([loadUndici(), dispatcher()]);
      for (let retries = 0; ; retries++) {
        let response: Response;
        try {
          response = await request(exchange.url, {
            method: exchange.method,
            headers: exchange.headers,
            ...(exchange.body === undefined ? {} : { body: exchange.body }),
            dispatcher: pool,
            headersTimeout: headersTimeoutMs,
            bodyTimeout: bodyTimeoutMs,
          });
        } catch (error) {
          const where = { method: exchange.method, href: exchange.href, origin: base.origin };
          throw proxyFailure(error, options.proxy, where) ?? transportError(error, { ...where, source });
        }
        const status = response.statusCode;
        if (status < 400 || exchange.tolerate?.(status)) return response;

        const wait = retryAfterSeconds(response.headers);
        const detail = await readErrorDetail(response);
        if (status === 429 && retries < rateLimitRetries && waitedSeconds + wait <= waitBudgetSeconds) {
          waitedSeconds += wait;
          await sleep(wait * 1000);
          continue;
        }
        throw errorForStatus({
          method: exchange.method,
          href: exchange.href,
          status,
          detail,
          retryAfterSeconds: wait,
          rateLimitRetries: retries,
          source,
        });
      }
    },

    async guarded(operation) {
      try {
        return await operation();
      } catch (error) {
        throw redactor.error(error);
      }
    },

    href: (raw, kind, source) => resolveHref(base, raw, kind, source),
    retryAfterSeconds,
    readObject: (exchange, response, what, expected = [200]) =>
      readJson(exchange, response, what, expected, { protocolError, source }, 'object') as Promise<
        Record<string, unknown>
      >,
    readList: (exchange, response, what) =>
      readJson(exchange, response, what, [200], { protocolError, source }, 'array') as Promise<unknown[]>,

    openBody(exchange, response, what) {
      let coding: ContentCoding;
      try {
        coding = contentCoding(response.headers, `${exchange.method} ${exchange.href}`);
      } catch (error) {
        release(response.body);
        throw error;
      }
      const body = streamDatafile(response.body, coding, (error) =>
        redactor.exportError(
          transportError(error, {
            method: exchange.method,
            href: exchange.href,
            origin: base.origin,
            during: `failed while streaming the ${what}`,
            source,
          }),
        ),
      );
      return { body, coding };
    },

    discard,
    protocolError,

    async close() {
      if (closed) return;
      closed = true;
      // A pool that no request created has nothing to close.
      await (await ownAgent)?.close();
    },
  };
}

/**
 * Reads and parses a small JSON object (a job, a traffic query), bounded; anything but a JSON
 * object with one of the `expected` statuses is a PceProtocolError.
 */
async function readErrorDetail(response: Response) {
  try {
    const coding = contentCoding(response.headers, 'error body');
    const { buffer } = await readCapped(decodedBody(response.body, coding), MAX_ERROR_BODY_BYTES);
    return parsePceErrorBody(buffer.toString('utf8'), header(response.headers, 'content-type'));
  } catch {
    release(response.body);
    return {};
  }
}

async function discard(response: Response): Promise<void> {
  try {
    await response.body.dump({ limit: 64 * 1024 });
  } catch {
    release(response.body);
  }
}

/** An ExportConfigError about one credential, named where it comes from. */
function credentialError(source: CredentialSource, credential: Credential, problem: string) {
  return new ExportConfigError(credentialIssue(source, credential, problem));
}

function validateCredentials(connection: PceConnection, source: CredentialSource) {
  const { apiKey, apiSecret } = connection;
  if (typeof apiKey !== 'string' || apiKey.trim() === '')
    throw credentialError(source, 'apiKey', 'is missing (the API key auth_username, api_…)');
  if (apiKey.includes(':')) throw credentialError(source, 'apiKey', 'must not contain ":"');
  if (typeof apiSecret !== 'string' || apiSecret === '')
    throw credentialError(source, 'apiSecret', 'is missing');
  return { apiKey, apiSecret };
}

/** The certificates of a PEM bundle, each checked to parse; none given means the system roots only. */
function parseCaBundle(caBundle: string | undefined, source: CredentialSource): string[] {
  if (caBundle === undefined || caBundle.trim() === '') return [];
  if (typeof caBundle !== 'string') throw credentialError(source, 'caBundle', 'must be a PEM string');
  const blocks = caBundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0)
    throw credentialError(source, 'caBundle', 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block);
    } catch (cause) {
      throw new ExportConfigError(certificateIssue(source, index + 1), { cause });
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
