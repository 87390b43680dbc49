/**
 * Deterministic, stateless randomness: every generated object is a pure function of
 * (seed, collection, index), so any object can be produced on its own, in any order,
 * and a data set of millions of objects never has to exist in memory.
 */

/** murmur3's 32-bit finaliser: a cheap full-avalanche mix. */
function mix32(value: number): number {
  let x = value | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Combines numbers into one 32-bit hash. Non-integers and values above 2^32 are folded. */
export function hash(...parts: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    const low = part >>> 0;
    const high = Math.floor(part / 0x1_0000_0000) >>> 0;
    h = mix32(h ^ low);
    if (high !== 0) h = mix32(h ^ high);
  }
  return h;
}

/** `hash(a, b, c, d)` for small non-negative integers, without the rest-array. */
export function hash4(a: number, b: number, c: number, d: number): number {
  return mix32(mix32(mix32(mix32(0x9e3779b9 ^ a) ^ b) ^ c) ^ d);
}

/** FNV-1a over UTF-16 code units, then mixed. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/** mulberry32: small, fast, good enough for test data. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Starts over from another seed (saves an allocation in tight loops). */
  reseed(seed: number): this {
    this.state = seed >>> 0;
    return this;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Integer in [min, max]. */
  between(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return at(items, this.int(items.length));
  }

  u32(): number {
    return Math.floor(this.next() * 4_294_967_296) >>> 0;
  }
}

/** Index into a non-empty array; throws instead of returning undefined. */
export function at<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined) throw new RangeError(`index ${index} outside 0..${items.length - 1}`);
  return item;
}

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex32(value: number): string {
  return (
    at(HEX, (value >>> 24) & 0xff) +
    at(HEX, (value >>> 16) & 0xff) +
    at(HEX, (value >>> 8) & 0xff) +
    at(HEX, value & 0xff)
  );
}

/**
 * The UUID of object `index` in a scope (a seed/org/collection hash). Its last 32 bits are a
 * bijection of the index, so objects of one scope never share a UUID.
 */
export function uuidForIndex(scope: number, index: number): string {
  return uuidOf(hash4(scope, index, 0, 0), mix32((index ^ scope) >>> 0));
}

function uuidOf(base: number, last: number): string {
  const a = mix32(base ^ 0x1b873593);
  const b = mix32(base ^ 0x2c1b3c6d);
  const c = (mix32(base ^ 0x297a2d39) & 0x0fff_ffff) | 0x4000_0000; // version nibble 4 in the 3rd group
  const d = (mix32(base ^ 0x3c6ef372) & 0x3fff_ffff) | 0x8000_0000; // RFC 4122 variant bits
  const hb = hex32(b);
  const hc = hex32(c);
  const hd = hex32(d);
  return `${hex32(a)}-${hb.slice(0, 4)}-${hc.slice(0, 4)}-${hd.slice(0, 4)}-${hd.slice(4)}${hex32(last)}`;
}

/** The inverse of `x * a` modulo 2^32 for an odd `a` (Newton's iteration). */
function inverseOdd(a: number): number {
  let x = a;
  for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(a, x));
  return x;
}

const INV_M1 = inverseOdd(0x85ebca6b);
const INV_M2 = inverseOdd(0xc2b2ae35);

/** The inverse of {@link mix32}: `unmix32(mix32(x)) === x >>> 0`. */
function unmix32(value: number): number {
  let x = value | 0;
  x ^= x >>> 16;
  x = Math.imul(x, INV_M2);
  x ^= (x >>> 13) ^ (x >>> 26);
  x = Math.imul(x, INV_M1);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * The index a UUID of {@link uuidForIndex} was made for, read from its last 32 bits; the caller
 * checks that the index exists and gives the same UUID back.
 */
export function indexOfUuid(scope: number, uuid: string): number | undefined {
  const last = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}([0-9a-f]{8})$/.exec(uuid)?.[1];
  if (last === undefined) return undefined;
  return (unmix32(Number.parseInt(last, 16)) ^ scope) >>> 0;
}
