import { ExportConfigError } from '../contracts/errors';
import type { RetryAfterBounds } from './types';

export const DEFAULT_RETRY_AFTER_BOUNDS: RetryAfterBounds = Object.freeze({
  defaultSeconds: 5,
  minSeconds: 1,
  maxSeconds: 300,
});

/**
 * A Retry-After further away than this is not a hint but nonsense (a misconfigured proxy, a date
 * in the wrong year): the default is used instead of the upper clamp.
 */
export const ABSURD_RETRY_AFTER_SECONDS = 86_400;

/** Fills in the defaults and checks the bounds; bad bounds are a configuration error. */
export function resolveRetryAfterBounds(partial: Partial<RetryAfterBounds> = {}): RetryAfterBounds {
  const bounds: RetryAfterBounds = {
    defaultSeconds: partial.defaultSeconds ?? DEFAULT_RETRY_AFTER_BOUNDS.defaultSeconds,
    minSeconds: partial.minSeconds ?? DEFAULT_RETRY_AFTER_BOUNDS.minSeconds,
    maxSeconds: partial.maxSeconds ?? DEFAULT_RETRY_AFTER_BOUNDS.maxSeconds,
  };
  for (const [field, value] of Object.entries(bounds)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new ExportConfigError(`retryAfter.${field} must be a finite number of seconds, 0 or more`);
    }
  }
  if (bounds.minSeconds > bounds.maxSeconds) {
    throw new ExportConfigError('retryAfter.minSeconds must not be greater than retryAfter.maxSeconds');
  }
  return bounds;
}

/** Clamps seconds into [minSeconds, maxSeconds]. */
function clampSeconds(seconds: number, bounds: RetryAfterBounds): number {
  return Math.min(bounds.maxSeconds, Math.max(bounds.minSeconds, seconds));
}

/**
 * Reads a Retry-After header value: delay-seconds (`120`) or an HTTP-date (relative to `now`).
 * Missing, negative, fractional, non-numeric or absurdly large values give the default. The
 * result is always clamped into [minSeconds, maxSeconds]; a date in the past gives minSeconds.
 */
export function parseRetryAfter(
  value: string | readonly string[] | undefined,
  bounds: RetryAfterBounds = DEFAULT_RETRY_AFTER_BOUNDS,
  now: number = Date.now(),
): number {
  const fallback = clampSeconds(bounds.defaultSeconds, bounds);
  const raw = typeof value === 'string' ? value : value?.[0];
  if (raw === undefined) return fallback;
  const text = raw.trim();
  if (text === '') return fallback;

  if (/^\d+$/.test(text)) {
    const seconds = Number(text);
    if (!Number.isSafeInteger(seconds) || seconds > ABSURD_RETRY_AFTER_SECONDS) return fallback;
    return clampSeconds(seconds, bounds);
  }

  const at = parseHttpDate(text);
  if (at === undefined) return fallback;
  const seconds = Math.ceil((at - now) / 1000);
  if (seconds > ABSURD_RETRY_AFTER_SECONDS) return fallback;
  return clampSeconds(Math.max(0, seconds), bounds);
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH = '(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
/** `Sun, 06 Nov 1994 08:49:37 GMT` */
const IMF_FIXDATE = new RegExp(
  `^(?:mon|tue|wed|thu|fri|sat|sun), (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`,
  'i',
);
/** `Sunday, 06-Nov-94 08:49:37 GMT` */
const RFC_850 = new RegExp(
  `^(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday), (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`,
  'i',
);
/** `Sun Nov  6 08:49:37 1994` */
const ASCTIME = new RegExp(`^(?:mon|tue|wed|thu|fri|sat|sun) ${MONTH} ( \\d|\\d{2}) ${TIME} (\\d{4})$`, 'i');

/** Parses the three HTTP-date forms of RFC 9110 §5.6.7 into epoch milliseconds. */
export function parseHttpDate(text: string): number | undefined {
  const parts = splitHttpDate(text);
  if (!parts) return undefined;

  const [dayText, monthText, yearText, hText, mText, sText] = parts;
  const month = MONTHS.indexOf(monthText.toLowerCase());
  const day = Number(dayText.trim());
  const year = Number(yearText);
  const h = Number(hText);
  const m = Number(mText);
  const s = Number(sText);
  if (month < 0 || h > 23 || m > 59 || s > 60) return undefined;
  const at = Date.UTC(year, month, day, h, m, Math.min(s, 59));
  // Date.UTC rolls 31 Feb over into March; a date that does not exist is not a date.
  const check = new Date(at);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month) return undefined;
  return at;
}

type DateParts = [day: string, month: string, year: string, h: string, m: string, s: string];

function splitHttpDate(text: string): DateParts | undefined {
  const imf = IMF_FIXDATE.exec(text);
  if (imf) return [imf[1] ?? '', imf[2] ?? '', imf[3] ?? '', imf[4] ?? '', imf[5] ?? '', imf[6] ?? ''];
  const rfc850 = RFC_850.exec(text);
  if (rfc850) {
    const yy = Number(rfc850[3]);
    const year = String(yy < 70 ? 2000 + yy : 1900 + yy);
    return [rfc850[1] ?? '', rfc850[2] ?? '', year, rfc850[4] ?? '', rfc850[5] ?? '', rfc850[6] ?? ''];
  }
  const asc = ASCTIME.exec(text);
  if (asc) return [asc[2] ?? '', asc[1] ?? '', asc[6] ?? '', asc[3] ?? '', asc[4] ?? '', asc[5] ?? ''];
  return undefined;
}
