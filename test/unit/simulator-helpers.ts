/** Small HTTP helpers for the simulator tests (undici `request`, so bodies are not auto-decoded). */
import { gunzipSync } from 'node:zlib';
import { type Dispatcher, request } from 'undici';
import type { RunningSimulator } from '../../simulator';

export interface Res {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** Raw body bytes as received (still gzipped when Content-Encoding says so). */
  readonly bytes: Buffer;
  /** The body decoded (gunzipped when needed) as text. */
  readonly text: string;
  json<T = unknown>(): T;
  header(name: string): string | undefined;
}

export function basicAuth(apiKey: string, apiSecret: string): string {
  return `Basic ${Buffer.from(`${apiKey}:${apiSecret}`).toString('base64')}`;
}

export interface CallOptions {
  readonly method?: Dispatcher.HttpMethod;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Send no Authorization header. */
  readonly anonymous?: boolean;
  readonly dispatcher?: Dispatcher;
}

/** Calls `{sim.url}/api/v2{path}` with the simulator's credentials. */
export async function call(sim: RunningSimulator, path: string, options: CallOptions = {}): Promise<Res> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (!options.anonymous)
    headers.authorization ??= basicAuth(sim.credentials.apiKey, sim.credentials.apiSecret);
  const res = await request(`${sim.url}/api/v2${path}`, {
    method: options.method ?? 'GET',
    headers,
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
  });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  const header = (name: string) => {
    const v = res.headers[name.toLowerCase()];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  const text = (header('content-encoding') === 'gzip' ? gunzipSync(bytes) : bytes).toString('utf8');
  return {
    status: res.statusCode,
    headers: res.headers,
    bytes,
    text,
    json: <T>() => JSON.parse(text) as T,
    header,
  };
}

export interface JobJson {
  href: string;
  job_type: string;
  description: string;
  status: string;
  result: { href?: string; message?: string };
  requested_at: string;
  terminated_at?: string;
  requested_by: { href: string };
  created_by: { href: string };
}

/** Submits an async collection GET and returns the 202's job href (Location). */
export async function submit(sim: RunningSimulator, path: string): Promise<string> {
  const res = await call(sim, path, { headers: { prefer: 'respond-async' } });
  if (res.status !== 202) throw new Error(`submit ${path}: ${res.status} ${res.text}`);
  const location = res.header('location');
  if (!location) throw new Error('no Location');
  return location;
}

/** Polls until the status is not pending/running (or the traffic equivalents), every `everyMs`. */
export async function pollUntilSettled<T extends { status: string }>(
  sim: RunningSimulator,
  href: string,
  everyMs = 20,
  limit = 500,
  pause: () => Promise<void> = () => sleep(everyMs),
): Promise<{ final: T; seen: string[] }> {
  const seen: string[] = [];
  for (let i = 0; i < limit; i++) {
    const res = await call(sim, href);
    if (res.status !== 200) throw new Error(`poll ${href}: ${res.status} ${res.text}`);
    const body = res.json<T>();
    if (seen.at(-1) !== body.status) seen.push(body.status);
    if (!['pending', 'running', 'queued', 'working'].includes(body.status)) return { final: body, seen };
    await pause();
  }
  throw new Error(`${href} did not settle`);
}

/**
 * As pollUntilSettled, on a simulator on the manual clock: the clock moves `stepMs` ahead after
 * each poll, so every phase of the job is seen however busy the machine is.
 */
export function stepUntilSettled<T extends { status: string }>(
  sim: RunningSimulator,
  href: string,
  stepMs: number,
): Promise<{ final: T; seen: string[] }> {
  return pollUntilSettled<T>(sim, href, stepMs, 500, () => sim.clock.advance(stepMs));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
