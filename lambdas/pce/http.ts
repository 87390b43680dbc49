import type { IncomingHttpHeaders } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { authAdvice, type CredentialSource, privateCaAdvice } from '../contracts/credentials';
import { ExportConfigError, type ExportError, isExportError } from '../contracts/errors';
import { TOOL_NAME, TOOL_VERSION } from '../version';
import { PceAuthError, PceProtocolError, PceRateLimited, PceRequestError, PceUnavailable } from './errors';

/** HTTP plumbing shared by the PCE client: headers, bounded body reads, status and transport error mapping. */

/** Error bodies are read up to this many (decoded) bytes; the rest is discarded. */
export const MAX_ERROR_BODY_BYTES = 8 * 1024;
const MAX_TOKEN_LENGTH = 100;
const MAX_PCE_MESSAGE_LENGTH = 300;
const MAX_ERROR_ENTRIES = 3;

export type Headers = IncomingHttpHeaders | Readonly<Record<string, string | string[] | undefined>>;

export function userAgent(): string {
  return `${TOOL_NAME}/${TOOL_VERSION} (+node/${process.versions.node})`;
}

/** The first value of a header, looked up case-insensitively. */
export function header(headers: Headers, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    return typeof value === 'string' ? value : value[0];
  }
  return undefined;
}

/** Every value of a header (repeated headers, case-insensitive names). */
export function headerValues(headers: Headers, name: string): string[] {
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    values.push(...(typeof value === 'string' ? [value] : value));
  }
  return values;
}

/** `401 Unauthorized`. */
export function statusLine(status: number): string {
  const text = STATUS_CODES[status];
  return text ? `${status} ${text}` : `${status}`;
}

/** Collapses whitespace and control characters and bounds the length of text that goes into a message. */
export function cleanText(text: string, max: number): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  const flat = text.replace(/[\u0000-\u001f\u007f\s]+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max)}…`;
}

export type ContentCoding = 'identity' | 'gzip';

/** The transport coding of a response; anything but identity and gzip (which we ask for) is a protocol error. */
export function contentCoding(headers: Headers, what: string): ContentCoding {
  const codings = headerValues(headers, 'content-encoding')
    .flatMap((value) => value.split(','))
    .map((value) => value.trim().toLowerCase())
    .filter((value) => value !== '' && value !== 'identity');
  if (codings.length === 0) return 'identity';
  if (codings.length === 1 && (codings[0] === 'gzip' || codings[0] === 'x-gzip')) return 'gzip';
  throw new PceProtocolError(
    `${what} came with Content-Encoding ${JSON.stringify(cleanText(codings.join(', '), 60))}, which was not asked for`,
  );
}

/**
 * The decoded body: `body` itself, or a gunzip stream fed from it. Errors of `body` surface on
 * the returned stream; destroying the returned stream destroys `body`.
 */
export function decodedBody(body: Readable, coding: ContentCoding): Readable {
  if (coding === 'identity') return body;
  return pipeline(body, createGunzip(), () => {
    // Errors surface on the gunzip stream, which the caller reads.
  });
}

/**
 * Reads at most `limit` bytes of a stream. Stops (and destroys the stream) once the limit is
 * passed, so a huge or endless body costs at most `limit` bytes of memory.
 */
export async function readCapped(
  stream: Readable,
  limit: number,
): Promise<{ buffer: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    if (size + bytes.length > limit) {
      chunks.push(bytes.subarray(0, limit - size));
      stream.destroy();
      return { buffer: Buffer.concat(chunks), truncated: true };
    }
    chunks.push(bytes);
    size += bytes.length;
  }
  return { buffer: Buffer.concat(chunks), truncated: false };
}

/** What a PCE error body says: `[{token, message}]`, parsed defensively. */
export interface PceErrorDetail {
  /** The first error token. */
  readonly token?: string;
  /** `token: message; token: message`, bounded, for the error message. */
  readonly summary?: string;
}

/** Parses a PCE error body (`[{"token": "...", "message": "..."}]`); anything else gives little or nothing. */
export function parsePceErrorBody(text: string, contentType?: string): PceErrorDetail {
  const trimmed = text.trim();
  if (trimmed === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    // Plain-text bodies carry a sentence worth showing; HTML error pages do not.
    if (contentType?.toLowerCase().startsWith('text/plain'))
      return { summary: cleanText(trimmed, MAX_PCE_MESSAGE_LENGTH) };
    return {};
  }
  const entries = (Array.isArray(parsed) ? parsed : [parsed]).slice(0, MAX_ERROR_ENTRIES);
  let token: string | undefined;
  const parts: string[] = [];
  for (const entry of entries) {
    if (entry === null || typeof entry !== 'object') continue;
    const record = entry as Record<string, unknown>;
    const entryToken =
      typeof record.token === 'string' ? cleanText(record.token, MAX_TOKEN_LENGTH) : undefined;
    const rawMessage = typeof record.message === 'string' ? record.message : record.error;
    const message =
      typeof rawMessage === 'string' ? cleanText(rawMessage, MAX_PCE_MESSAGE_LENGTH) : undefined;
    if (entryToken && token === undefined) token = entryToken;
    const part = [entryToken, message].filter((p): p is string => p !== undefined && p !== '').join(': ');
    if (part !== '') parts.push(part);
  }
  return { token, summary: parts.length > 0 ? parts.join('; ') : undefined };
}

export interface StatusErrorContext {
  readonly method: string;
  /** Org-relative href, e.g. `/orgs/1/labels?key=env`. */
  readonly href: string;
  readonly status: number;
  readonly detail: PceErrorDetail;
  /** Retry-After of the response, already parsed and clamped. */
  readonly retryAfterSeconds: number;
  /** How often the client already waited out a 429. */
  readonly rateLimitRetries?: number;
  /** Where the credentials come from, named in the advice after a 401 or 403. */
  readonly source: CredentialSource;
}

/** Maps a 4xx/5xx response to the error the state machine sees. */
export function errorForStatus(ctx: StatusErrorContext): ExportError {
  const { method, href, status, detail, retryAfterSeconds } = ctx;
  const said = detail.summary ? ` (${detail.summary})` : '';
  const base = `${method} ${href} returned ${statusLine(status)}${said}`;
  const details = { status, href, token: detail.token };
  if (status === 401 || status === 403) {
    return new PceAuthError(`${base}. ${authAdvice(ctx.source)}`, details);
  }
  if (status === 429) {
    const tries = ctx.rateLimitRetries ? ` after ${ctx.rateLimitRetries} wait(s)` : '';
    return new PceRateLimited(`${base}${tries}; retry after ${retryAfterSeconds} s`, {
      ...details,
      retryAfterSeconds,
    });
  }
  if (status >= 500) {
    return new PceUnavailable(`${base}; retry after ${retryAfterSeconds} s`, {
      ...details,
      retryAfterSeconds,
    });
  }
  if (status >= 400) return new PceRequestError(base, details);
  return new PceProtocolError(`${base}, which the protocol does not expect here`, details);
}

/** Certificate verification failures: fixed by configuration, never by retrying. */
const TLS_TRUST_ERROR_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'CERT_CHAIN_TOO_LONG',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const TRANSPORT_DESCRIPTIONS: Readonly<Record<string, string>> = {
  UND_ERR_CONNECT_TIMEOUT: 'the connection to the PCE timed out',
  UND_ERR_HEADERS_TIMEOUT: 'the PCE did not answer within the headers timeout',
  UND_ERR_BODY_TIMEOUT: 'the PCE sent no body data for longer than the body timeout',
  UND_ERR_SOCKET: 'the connection to the PCE was closed',
  UND_ERR_CLOSED: 'the connection pool was closed',
  UND_ERR_DESTROYED: 'the connection pool was destroyed',
  UND_ERR_ABORTED: 'the request was aborted',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'the response body did not match its Content-Length',
  ECONNRESET: 'the PCE reset the connection',
  ECONNREFUSED: 'the PCE refused the connection',
  ECONNABORTED: 'the connection to the PCE was aborted',
  EPIPE: 'the connection to the PCE was closed',
  ETIMEDOUT: 'the connection to the PCE timed out',
  EHOSTUNREACH: 'the host of the PCE is unreachable',
  ENETUNREACH: 'the network of the PCE is unreachable',
  ENOTFOUND: 'the host name of the PCE could not be resolved',
  EAI_AGAIN: 'the host name of the PCE could not be resolved for now',
  Z_DATA_ERROR: 'the gzip-encoded body is corrupt',
  Z_BUF_ERROR: 'the gzip-encoded body was cut off',
};

/** The codes in an error and its cause chain (and an AggregateError's errors), outermost first. */
function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number): void => {
    if (depth > 5 || value === null || typeof value !== 'object' || seen.has(value)) return;
    seen.add(value);
    const code = (value as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    visit((value as { cause?: unknown }).cause, depth + 1);
    const errors = (value as { errors?: unknown }).errors;
    if (Array.isArray(errors)) for (const inner of errors) visit(inner, depth + 1);
  };
  visit(error, 0);
  return codes;
}

export interface TransportErrorContext {
  readonly method: string;
  readonly href: string;
  /** `https://pce.example.com:8443`, named in connection failures. */
  readonly origin: string;
  /** What was going on, e.g. "reading the datafile"; default "failed". */
  readonly during?: string;
  /** Where the CA comes from, named in the advice after an untrusted certificate. */
  readonly source: CredentialSource;
}

/**
 * Maps an error thrown by the transport (connect, TLS, timeouts, resets, DNS, a body cut off,
 * a corrupt gzip stream) to the error the state machine sees. TLS trust failures become
 * ExportConfigError (not retried); everything else PceUnavailable. ExportErrors pass through.
 */
export function transportError(error: unknown, ctx: TransportErrorContext): ExportError {
  if (isExportError(error)) return error;
  const codes = errorCodes(error);
  const prefix = `${ctx.method} ${ctx.href} ${ctx.during ?? 'failed'}`;
  const tls = codes.find((code) => TLS_TRUST_ERROR_CODES.has(code));
  if (tls) {
    const hint =
      tls === 'ERR_TLS_CERT_ALTNAME_INVALID' || tls === 'HOSTNAME_MISMATCH'
        ? ' The certificate does not name this host: use a PCE URL with a host name the certificate names.'
        : tls === 'CERT_HAS_EXPIRED' || tls === 'CERT_NOT_YET_VALID'
          ? " The certificate is outside its validity period: check the PCE's certificate and the clock."
          : '';
    return new ExportConfigError(
      `${prefix}: the TLS certificate of ${ctx.origin} is not trusted (${tls}).${hint} ${privateCaAdvice(ctx.source)}`,
      { href: ctx.href, cause: error },
    );
  }
  if (codes.includes('ERR_SSL_WRONG_VERSION_NUMBER')) {
    return new ExportConfigError(
      `${prefix}: ${ctx.origin} did not answer with TLS (ERR_SSL_WRONG_VERSION_NUMBER); check the PCE URL's scheme and port`,
      { href: ctx.href, cause: error },
    );
  }
  const known = codes.find((code) => TRANSPORT_DESCRIPTIONS[code] !== undefined);
  const description = known ? TRANSPORT_DESCRIPTIONS[known] : undefined;
  const reason =
    description !== undefined
      ? `${description.replace('the PCE', `the PCE at ${ctx.origin}`)} (${known})`
      : `${errorName(error)}${codes[0] ? ` (${codes[0]})` : ''}; PCE at ${ctx.origin}`;
  return new PceUnavailable(`${prefix}: ${reason}`, { href: ctx.href, cause: error });
}

function errorName(error: unknown): string {
  if (error instanceof Error) return cleanText(`${error.name}: ${error.message}`, 200);
  return 'an unexpected transport error';
}
