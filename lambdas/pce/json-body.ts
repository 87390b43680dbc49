import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { CredentialSource } from '../contracts/credentials';
import type { PceProtocolError } from './errors';
import {
  type ContentCoding,
  cleanText,
  contentCoding,
  decodedBody,
  header,
  readCapped,
  statusLine,
  transportError,
} from './http';

/*
 * Bounded reads of the PCE's small JSON answers (a job, a traffic query, the list of queries):
 * the status, the Content-Type, the size and the shape are checked before anything is used.
 */

const MAX_JOB_BODY_BYTES = 1024 * 1024;

/** What the reader needs of the request it reads the answer of. */
interface Sent {
  readonly method: 'GET' | 'DELETE' | 'POST' | 'PUT';
  readonly href: string;
  readonly url: string;
}

interface JsonBodyContext<E extends Sent> {
  readonly protocolError: (exchange: E, status: number, problem: string) => PceProtocolError;
  readonly source: CredentialSource;
}

/**
 * Reads a JSON body of one of the `expected` statuses, an object or an array as `shape` says;
 * anything else is a PceProtocolError.
 */
export async function readJson<E extends Sent>(
  exchange: E,
  response: Dispatcher.ResponseData,
  what: string,
  expected: readonly number[],
  { protocolError, source }: JsonBodyContext<E>,
  shape: 'object' | 'array',
): Promise<unknown> {
  const { statusCode: status, headers, body } = response;
  const fail = (problem: string): never => {
    release(body);
    throw protocolError(exchange, status, problem);
  };
  if (!expected.includes(status))
    fail(`instead of ${expected.map(statusLine).join(' or ')} with the ${what}`);
  const contentType = header(headers, 'content-type');
  if (contentType === undefined || !/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(contentType.trim())) {
    fail(`with Content-Type ${JSON.stringify(cleanText(contentType ?? '(none)', 80))} instead of JSON`);
  }
  let coding: ContentCoding;
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
      source,
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
  if (shape === 'array') {
    if (!Array.isArray(parsed)) fail(`with ${describeJson(parsed)} instead of a list of ${what}`);
    return parsed;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    fail(`with ${describeJson(parsed)} instead of a ${what} object`);
  }
  return parsed;
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Drops a response body that will not be read. undici answers the destroy of an unread body with
 * an AbortError 'error' event; without a listener that is an uncaught exception, which would end
 * the Lambda process after the real (named) error had been thrown.
 */
export function release(body: Readable): void {
  body.on('error', () => {});
  body.destroy();
}
