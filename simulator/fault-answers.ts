/**
 * Answers that faults make up in place of the real one: a status with a body (`respond`), the
 * front end of a PCE that is down (`outage`, `maintenance`), a 429 storm (`throttle`), and the
 * hostile `huge-error` and `deep-json` bodies. Header case, framing and gzip faults still apply.
 */
import type { ServerResponse } from 'node:http';
import {
  deepJsonChunks,
  frontEndPage,
  hugeErrorChunks,
  MAINTENANCE_MESSAGE,
  MAINTENANCE_PAGE,
} from './bodies';
import type { Fault } from './fault-kinds';
import type { RetryAfterValue } from './fault-kinds-outage';
import { Reply, transportFaults } from './reply';

const REASONS: Readonly<Record<number, string>> = {
  502: 'Bad Gateway',
  503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
};

/** The PCE's error token for a status. */
function tokenFor(status: number): string {
  const tokens: Record<number, string> = {
    400: 'bad_request',
    401: 'authentication_failed',
    403: 'access_denied',
    404: 'not_found',
    406: 'invalid_uri',
    409: 'conflict',
    429: 'too_many_requests',
    500: 'internal_server_error',
    502: 'bad_gateway',
    503: 'service_unavailable',
    504: 'gateway_timeout',
  };
  return tokens[status] ?? `http_${status}`;
}

function retryAfterHeader(value: RetryAfterValue | string): string {
  if (typeof value === 'object') return new Date(Date.now() + value.httpDateInSeconds * 1000).toUTCString();
  return String(value);
}

const ANSWER_KINDS = new Set<Fault['kind']>([
  'respond',
  'outage',
  'maintenance',
  'throttle',
  'huge-error',
  'deep-json',
]);

/** The first fault among `hits` that answers in place of the simulator, if any. */
export function answeringFault(hits: readonly Fault[]): Fault | undefined {
  return hits.find((f) => ANSWER_KINDS.has(f.kind));
}

/** Sends the made-up answer of `f` (one of the answering kinds). */
export function answer(res: ServerResponse, f: Fault, hits: readonly Fault[]): Promise<void> {
  const reply = new Reply(res, transportFaults(hits));
  const retry = (value: RetryAfterValue | string | undefined) => {
    if (value !== undefined) reply.header('retry-after', retryAfterHeader(value));
  };
  switch (f.kind) {
    case 'respond': {
      for (const [name, value] of Object.entries(f.headers ?? {})) reply.header(name, value);
      retry(f.retryAfter);
      const contentType = Object.entries(f.headers ?? {}).find(
        ([n]) => n.toLowerCase() === 'content-type',
      )?.[1];
      if (f.body !== undefined) {
        if (typeof f.body === 'string') return reply.raw(f.status, f.body, contentType ?? 'application/json');
        return reply.json(f.status, f.body);
      }
      if (f.status >= 400) return reply.error(f.status, tokenFor(f.status), `Simulated ${f.status} response`);
      return reply.empty(f.status);
    }
    case 'outage': {
      const status = f.status ?? 503;
      retry(f.retryAfter);
      const body = f.body ?? (status === 503 ? 'json' : 'html');
      if (body === 'empty') return reply.empty(status);
      if (body === 'json')
        return reply.error(status, tokenFor(status), `The PCE is temporarily unavailable (${status})`);
      return reply.raw(status, frontEndPage(status, REASONS[status] ?? 'Error'), 'text/html');
    }
    case 'maintenance':
      retry(f.retryAfter);
      if (f.body === 'json') return reply.error(503, 'maintenance', MAINTENANCE_MESSAGE);
      return reply.raw(503, MAINTENANCE_PAGE, 'text/html');
    case 'throttle':
      retry(f.retryAfter);
      return reply.error(429, 'too_many_requests', 'API rate limit exceeded; slow down');
    case 'huge-error': {
      const status = f.status ?? 500;
      return reply.stream(status, hugeErrorChunks(tokenFor(status), f.bytes), false);
    }
    case 'deep-json':
      return reply.stream(200, deepJsonChunks(f.depth ?? 100_000), false);
    default:
      return reply.error(500, 'internal_server_error', `fault ${f.kind} does not answer`);
  }
}
