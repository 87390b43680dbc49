/**
 * Bodies that faults send instead of the real one: the front end's error pages, a maintenance
 * page, endless error arrays, deeply nested JSON, and text laced with control characters.
 */

/** nginx's own error page for a status, as a PCE front end sends it while the application is down. */
export function frontEndPage(status: number, reason: string): string {
  return `<html>\r\n<head><title>${status} ${reason}</title></head>\r\n<body>\r\n<center><h1>${status} ${reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}

export const MAINTENANCE_PAGE =
  '<!DOCTYPE html>\n<html><head><title>PCE maintenance</title></head>\n<body><h1>The PCE is undergoing maintenance</h1>\n<p>The Policy Compute Engine is being upgraded or restarted. Please try again in a few minutes.</p></body></html>\n';

export const MAINTENANCE_MESSAGE = 'The PCE is undergoing maintenance; try again in a few minutes';

/** What `control-chars` appends: NUL, BEL, ANSI red and clear-screen, CR LF with a fake header, a bidi override. */
export const CONTROL_TEXT = '\u0000\u0007\u001b[31m\u001b[2J\r\nX-Injected: 1\u202e';

const HUMAN_FIELDS = new Set(['description', 'message', 'error_message']);

/** A copy of a JSON value with `text` appended to every human-readable string field. */
export function withControlChars(value: unknown, text: string): unknown {
  if (Array.isArray(value)) return value.map((v) => withControlChars(v, text));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value))
    out[key] = HUMAN_FIELDS.has(key) && typeof v === 'string' ? v + text : withControlChars(v, text);
  return out;
}

/** `depth` nested arrays, `[[[…]]]`, in chunks of 64 KiB. */
export function* deepJsonChunks(depth: number): Generator<string> {
  const size = 64 * 1024;
  for (let left = depth; left > 0; left -= size) yield '['.repeat(Math.min(size, left));
  for (let left = depth; left > 0; left -= size) yield ']'.repeat(Math.min(size, left));
}

/**
 * A PCE-style error array that keeps growing: `[{"token":…,"message":"…"},…`, cut at `bytes`
 * (never closed), or endless when `bytes` is undefined.
 */
export function* hugeErrorChunks(token: string, bytes: number | undefined): Generator<string> {
  const item = `{"token":${JSON.stringify(token)},"message":"${'The server encountered an internal error. '.repeat(100)}"}`;
  let chunk = `[${item}`;
  while (chunk.length < 64 * 1024) chunk += `,${item}`;
  chunk += ',';
  let left = bytes ?? Number.POSITIVE_INFINITY;
  let first = true;
  while (left > 0) {
    const piece = first ? chunk : chunk.slice(1);
    first = false;
    const out = piece.length > left ? piece.slice(0, left) : piece;
    left -= out.length;
    yield out;
  }
}
