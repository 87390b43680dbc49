/** IPv4 addresses as unsigned 32-bit numbers, and the ranges that CIDR blocks and IP lists cover. */
import { isIPv4 } from 'node:net';
import type { IpRange } from './policy';

/** Inclusive range of addresses. */
export interface Ipv4Range {
  readonly from: number;
  readonly to: number;
}

export function parseIpv4(text: string): number | undefined {
  if (!isIPv4(text)) return undefined;
  const [a = 0, b = 0, c = 0, d = 0] = text.split('.').map(Number);
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

export function formatIpv4(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
}

/** `10.0.0.0/8` or `10.1.2.3` as a range; undefined when not IPv4. */
export function cidrRange(text: string): Ipv4Range | undefined {
  const slash = text.indexOf('/');
  const base = parseIpv4(slash < 0 ? text : text.slice(0, slash));
  if (base === undefined) return undefined;
  if (slash < 0) return { from: base, to: base };
  const bitsText = text.slice(slash + 1);
  if (!/^\d{1,2}$/.test(bitsText) || Number(bitsText) > 32) return undefined;
  const bits = Number(bitsText);
  const size = 2 ** (32 - bits);
  const from = Math.floor(base / size) * size;
  return { from, to: from + size - 1 };
}

/** The IPv4 part of an IP list's ranges (IPv6 entries such as `::/0` cover no IPv4 address). */
export function ipListRanges(ranges: readonly IpRange[]): {
  readonly included: readonly Ipv4Range[];
  readonly excluded: readonly Ipv4Range[];
} {
  const included: Ipv4Range[] = [];
  const excluded: Ipv4Range[] = [];
  for (const range of ranges) {
    const start = cidrRange(range.from_ip);
    if (start === undefined) continue;
    const end = range.to_ip === undefined ? undefined : parseIpv4(range.to_ip);
    (range.exclusion ? excluded : included).push(end === undefined ? start : { from: start.from, to: end });
  }
  return { included, excluded };
}

export function inRanges(ip: number, ranges: readonly Ipv4Range[]): boolean {
  for (const r of ranges) if (ip >= r.from && ip <= r.to) return true;
  return false;
}
