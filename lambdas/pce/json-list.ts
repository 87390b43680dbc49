import { cleanText, readCapped, transportError } from './http';
import type { Transport } from './transport';

/*
 * A synchronous GET of a small JSON array (the traffic queries of an org, the labels of a key
 * and value), read whole with a bound: such answers are lists the PCE caps at 500 objects.
 */

/** The most bytes a listing is read to. */
const MAX_LIST_BYTES = 8 * 1024 * 1024;

/** GETs `href` and parses its JSON array; anything else is a PceProtocolError naming `what`. */
export async function getJsonArray(transport: Transport, href: string, what: string): Promise<unknown[]> {
  const exchange = transport.exchange('GET', href, { headers: { 'accept-encoding': 'gzip' } });
  const response = await transport.send(exchange);
  if (response.statusCode !== 200) {
    await transport.discard(response);
    throw transport.protocolError(exchange, response.statusCode, `instead of 200 OK with the ${what}`);
  }
  const { body } = transport.openBody(exchange, response, what);
  let read: { buffer: Buffer; truncated: boolean };
  try {
    read = await readCapped(body, MAX_LIST_BYTES);
  } catch (error) {
    throw transportError(error, {
      method: 'GET',
      href,
      origin: transport.base.origin,
      during: `failed while reading the ${what}`,
      source: transport.credentialSource,
    });
  }
  if (read.truncated) {
    throw transport.protocolError(exchange, 200, `with more than ${MAX_LIST_BYTES} bytes of ${what}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(read.buffer.toString('utf8'));
  } catch {
    throw transport.protocolError(exchange, 200, `with ${what} that are not JSON`);
  }
  if (!Array.isArray(parsed)) {
    const shown = cleanText(JSON.stringify(parsed) ?? String(parsed), 60);
    throw transport.protocolError(exchange, 200, `with ${shown} instead of a JSON array of ${what}`);
  }
  return parsed;
}
