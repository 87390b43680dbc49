import { describe, expect, it } from 'vitest';
import { ExportConfigError } from '../../lambdas/contracts/errors';
import {
  ABSURD_RETRY_AFTER_SECONDS,
  DEFAULT_RETRY_AFTER_BOUNDS,
  parseHttpDate,
  parseRetryAfter,
  resolveRetryAfterBounds,
} from '../../lambdas/pce/retry-after';

const bounds = { defaultSeconds: 5, minSeconds: 1, maxSeconds: 300 };
const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);

describe('parseRetryAfter', () => {
  it.each([
    ['7', 7],
    ['  42  ', 42],
    ['0042', 42],
    ['1', 1],
    ['300', 300],
  ])('reads delay-seconds %j as %d', (value, expected) => {
    expect(parseRetryAfter(value, bounds, NOW)).toBe(expected);
  });

  it('clamps zero up to minSeconds', () => {
    expect(parseRetryAfter('0', bounds, NOW)).toBe(1);
  });

  it('clamps a large but plausible value down to maxSeconds', () => {
    expect(parseRetryAfter('3600', bounds, NOW)).toBe(300);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['blank', '   '],
    ['negative', '-5'],
    ['signed', '+5'],
    ['fractional', '1.5'],
    ['fractional garbage', '2.5.1'],
    ['non-numeric', 'soon'],
    ['numeric with a unit', '10s'],
    ['hexadecimal', '0x10'],
    ['exponent', '1e3'],
    ['absurdly huge', '99999999999999999999999'],
    ['beyond a day', String(ABSURD_RETRY_AFTER_SECONDS + 1)],
    ['a date that does not exist', 'Mon, 31 Feb 2025 12:00:00 GMT'],
    ['a date with an impossible time', 'Wed, 15 Jan 2025 25:00:00 GMT'],
    ['a loosely formatted date', '2025-01-15T12:00:30Z'],
  ])('uses the default for a %s value', (_label, value) => {
    expect(parseRetryAfter(value, bounds, NOW)).toBe(5);
  });

  it('takes the first of repeated headers', () => {
    expect(parseRetryAfter(['12', '99'], bounds, NOW)).toBe(12);
  });

  it('uses the default for an empty list of headers', () => {
    expect(parseRetryAfter([], bounds, NOW)).toBe(5);
  });

  it('reads an IMF-fixdate relative to now', () => {
    expect(parseRetryAfter('Wed, 15 Jan 2025 12:00:30 GMT', bounds, NOW)).toBe(30);
  });

  it('reads an IMF-fixdate case-insensitively', () => {
    expect(parseRetryAfter('wed, 15 JAN 2025 12:00:30 GMT', bounds, NOW)).toBe(30);
  });

  it('reads an obsolete RFC 850 date', () => {
    expect(parseRetryAfter('Wednesday, 15-Jan-25 12:01:00 GMT', bounds, NOW)).toBe(60);
  });

  it('reads an obsolete asctime date', () => {
    expect(parseRetryAfter('Wed Jan 15 12:00:10 2025', bounds, NOW)).toBe(10);
  });

  it('rounds a date a fraction of a second away up to whole seconds', () => {
    expect(parseRetryAfter('Wed, 15 Jan 2025 12:00:10 GMT', bounds, NOW + 500)).toBe(10);
  });

  it('clamps a date in the past to minSeconds', () => {
    expect(parseRetryAfter('Wed, 15 Jan 2025 11:00:00 GMT', bounds, NOW)).toBe(1);
  });

  it('clamps a date a few hours away to maxSeconds', () => {
    expect(parseRetryAfter('Wed, 15 Jan 2025 15:00:00 GMT', bounds, NOW)).toBe(300);
  });

  it('uses the default for a date years away', () => {
    expect(parseRetryAfter('Fri, 15 Jan 2027 12:00:00 GMT', bounds, NOW)).toBe(5);
  });

  it('measures a date against Date.now when no time is given', () => {
    const inTwentySeconds = new Date(Date.now() + 20_500).toUTCString();

    const seconds = parseRetryAfter(inTwentySeconds, bounds);

    expect(seconds).toBeGreaterThanOrEqual(19);
    expect(seconds).toBeLessThanOrEqual(21);
  });

  it('clamps the default itself into the bounds', () => {
    expect(parseRetryAfter(undefined, { defaultSeconds: 500, minSeconds: 1, maxSeconds: 60 }, NOW)).toBe(60);
    expect(parseRetryAfter('nonsense', { defaultSeconds: 0, minSeconds: 2, maxSeconds: 60 }, NOW)).toBe(2);
  });

  it('honours configured bounds', () => {
    const custom = { defaultSeconds: 10, minSeconds: 3, maxSeconds: 30 };

    expect(parseRetryAfter('1', custom, NOW)).toBe(3);
    expect(parseRetryAfter('31', custom, NOW)).toBe(30);
    expect(parseRetryAfter(undefined, custom, NOW)).toBe(10);
  });

  it('defaults to 5 s within [1, 300] when no bounds are given', () => {
    expect(DEFAULT_RETRY_AFTER_BOUNDS).toEqual({ defaultSeconds: 5, minSeconds: 1, maxSeconds: 300 });
    expect(parseRetryAfter(undefined)).toBe(5);
    expect(parseRetryAfter('1000')).toBe(300);
  });
});

describe('parseHttpDate', () => {
  it('returns epoch milliseconds for each of the three forms', () => {
    const expected = Date.UTC(1994, 10, 6, 8, 49, 37);

    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(expected);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(expected);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(expected);
  });

  it('rejects dates not in GMT', () => {
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 PST')).toBeUndefined();
  });
});

describe('resolveRetryAfterBounds', () => {
  it('fills in the defaults', () => {
    expect(resolveRetryAfterBounds()).toEqual({ defaultSeconds: 5, minSeconds: 1, maxSeconds: 300 });
    expect(resolveRetryAfterBounds({ maxSeconds: 60 })).toEqual({
      defaultSeconds: 5,
      minSeconds: 1,
      maxSeconds: 60,
    });
  });

  it.each([
    [{ minSeconds: -1 }],
    [{ maxSeconds: Number.NaN }],
    [{ defaultSeconds: Number.POSITIVE_INFINITY }],
    [{ minSeconds: 10, maxSeconds: 5 }],
  ])('rejects %j with ExportConfigError', (partial) => {
    expect(() => resolveRetryAfterBounds(partial)).toThrow(ExportConfigError);
  });
});
