/*
 * The digest of one object, all the change history keeps of a run: its href, a 64-bit hash of
 * each top-level field, and the JSON text of the watched fields (whose values before and after
 * a change are written). A digest line is `{json href}\t{json {f, v}}`, so that lines sort by
 * href as plain strings, in /tmp and in S3 alike.
 *
 * Values are hashed in a canonical form that every format reads back alike: null members of
 * objects are left out (a Parquet struct has every member, null where the object had none),
 * times are ISO strings and integers numbers.
 */

export interface Digest {
  /** The href, JSON-encoded: the sort key. */
  readonly key: string;
  /** Field → hash. */
  readonly f: Readonly<Record<string, string>>;
  /** Watched field → its canonical JSON text. */
  readonly v?: Readonly<Record<string, string>>;
}

/** The canonical form of a value (see the top of this file); undefined for null. */
function canonical(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map((item) => canonical(item) ?? null);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(value)) {
      const canon = canonical(member);
      if (canon !== undefined) out[key] = canon;
    }
    return out;
  }
  return value;
}

/** Two FNV-1a lanes over the text's UTF-16 code units: 64 bits, as 16 hex digits. */
function hash(text: string): string {
  let a = 0x811c9dc5;
  let b = 0xcbf29ce4;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/** The digest line of an object, or undefined when it has no string href. */
export function digestLine(
  object: Record<string, unknown>,
  watched: ReadonlySet<string>,
): string | undefined {
  const href = object.href;
  if (typeof href !== 'string') return undefined;
  const f: Record<string, string> = {};
  let v: Record<string, string> | undefined;
  for (const field of Object.keys(object).sort()) {
    const value = canonical(object[field]);
    if (value === undefined) continue;
    const text = JSON.stringify(value);
    f[field] = hash(text);
    if (watched.has(field)) {
      v ??= {};
      v[field] = text;
    }
  }
  return `${JSON.stringify(href)}\t${JSON.stringify(v === undefined ? { f } : { f, v })}`;
}

/** The sort key (JSON-encoded href) of a digest line. */
export function keyOf(line: string): string {
  return line.slice(0, line.indexOf('\t'));
}

export function parseDigest(line: string): Digest {
  const tab = line.indexOf('\t');
  const body = JSON.parse(line.slice(tab + 1)) as Omit<Digest, 'key'>;
  return { key: line.slice(0, tab), ...body };
}
