/** The simulated PCE's front: listening, auth, rate limiting, faults, and routing to the handlers. */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { OrgData } from './data';
import type { Fault } from './fault-kinds';
import { FaultRegistry, isJobFault } from './faults';
import { CollectionJobs } from './jobs';
import { type ResolvedOptions, resolveOptions } from './options';
import { bodyFaults, Reply } from './reply';
import { route } from './routes';
import { generateServerTls } from './tls';
import { TrafficQueries } from './traffic-queries';
import type { RecordedRequest, RunningSimulator, SimulatorOptions } from './types';

const MAX_REQUEST_BODY = 1024 * 1024;

/** Sliding 60-second window of request times per API key. */
export class RateLimiter {
  private readonly log = new Map<string, number[]>();

  constructor(private readonly limit: number) {}

  /** Records a request; when over the limit, returns the seconds until one is allowed again. */
  take(key: string, now: number): number | undefined {
    if (this.limit === Number.POSITIVE_INFINITY) return undefined;
    let times = this.log.get(key);
    if (!times) {
      times = [];
      this.log.set(key, times);
    }
    while (times.length > 0 && (times[0] ?? 0) <= now - 60_000) times.shift();
    if (times.length >= this.limit) {
      const oldest = times[0] ?? now;
      return Math.max(1, Math.ceil((oldest + 60_000 - now) / 1000));
    }
    times.push(now);
    return undefined;
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

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

/** The request body; undefined when over 1 MB, null when the upload was aborted. */
function readBody(req: IncomingMessage): Promise<string | undefined | null> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BODY) tooBig = true;
      else parts.push(chunk);
    });
    req.on('end', () => resolve(tooBig ? undefined : Buffer.concat(parts).toString('utf8')));
    req.on('error', () => resolve(null));
    // An aborted upload never ends; after 'end' this resolve is a no-op.
    req.on('close', () => resolve(null));
  });
}

export class Simulator implements RunningSimulator {
  readonly requests: RecordedRequest[] = [];
  readonly faults: FaultRegistry;
  readonly credentials: { readonly apiKey: string; readonly apiSecret: string };
  url = '';
  caPem?: string;

  private readonly opts: ResolvedOptions;
  private readonly orgData = new Map<number, OrgData>();
  private readonly jobs: CollectionJobs;
  private readonly traffic: TrafficQueries;
  private readonly limiter: RateLimiter;
  private readonly sockets = new Set<Socket>();
  /** Bytes written on connections that have closed. */
  private closedBytes = 0;
  private readonly keyDigest: Buffer;
  private readonly secretDigest: Buffer;
  private server?: Server;

  private constructor(options: SimulatorOptions) {
    this.opts = resolveOptions(options);
    this.credentials = this.opts.credentials;
    this.faults = new FaultRegistry(options.faults ?? []);
    this.limiter = new RateLimiter(this.opts.rateLimitPerMinute);
    this.keyDigest = digest(this.credentials.apiKey);
    this.secretDigest = digest(this.credentials.apiSecret);
    for (const org of this.opts.orgs)
      this.orgData.set(org, new OrgData(org, this.opts.seed, this.opts.dataset));
    const ctx = { opts: this.opts, orgData: this.orgData, url: () => this.url };
    this.jobs = new CollectionJobs(ctx);
    this.traffic = new TrafficQueries(ctx);
  }

  static async start(options: SimulatorOptions = {}): Promise<Simulator> {
    const sim = new Simulator(options);
    await sim.listen();
    return sim;
  }

  private async listen(): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err: unknown) => {
        // A bug in the simulator: answer 500 like a PCE would, if still possible.
        if (!res.headersSent && !res.destroyed) {
          res.statusCode = 500;
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify([{ token: 'internal_server_error', message: String(err) }]));
        } else res.destroy();
      });
    };
    let server: Server;
    if (this.opts.tls) {
      const tls = await generateServerTls();
      this.caPem = tls.caPem;
      server = createHttpsServer({ key: tls.keyPem, cert: tls.certPem }, handler) as unknown as Server;
    } else {
      server = createHttpServer(handler);
    }
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => {
        this.sockets.delete(socket);
        this.closedBytes += socket.bytesWritten;
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const { port } = server.address() as AddressInfo;
    const host = this.opts.host.includes(':') ? `[${this.opts.host}]` : this.opts.host;
    this.url = `${this.opts.tls ? 'https' : 'http'}://${host}:${port}`;
  }

  bytesSent(): number {
    let total = this.closedBytes;
    for (const socket of this.sockets) total += socket.bytesWritten;
    return total;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const now = Date.now();
    const url = new URL(req.url ?? '/', 'http://pce.invalid');
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: flatHeaders(req),
      time: now,
    };
    this.requests.push(record);
    if (this.requests.length > this.opts.maxRecordedRequests)
      this.requests.splice(0, this.requests.length - this.opts.maxRecordedRequests);
    const onDone = () => {
      if (res.headersSent) record.status = res.statusCode;
    };
    res.once('finish', onDone);
    res.once('close', onDone);
    res.setHeader('x-request-id', randomUUID());
    res.setHeader('cache-control', 'no-cache');

    const plain = new Reply(res, bodyFaults([]));
    const body = req.method === 'POST' || req.method === 'PUT' ? await readBody(req) : '';
    if (body === null) return;
    if (body === undefined) return plain.error(413, 'request_too_large', 'Request body larger than 1 MB');
    if (body) record.body = body;

    const found = route(req.method ?? 'GET', url.pathname, record.headers.prefer);
    if (found === undefined) return plain.error(404, 'not_found', `Not found: ${url.pathname}`);
    if (found === 'method')
      return plain.error(405, 'method_not_allowed', `${req.method} not allowed on ${url.pathname}`);
    record.endpoint = found.endpoint;

    if (!this.authenticated(req.headers.authorization))
      return plain.error(401, 'authentication_failed', 'Authentication failed: invalid API key or secret');
    const wait = this.limiter.take(this.credentials.apiKey, now);
    if (wait !== undefined) {
      plain.header('retry-after', String(wait));
      return plain.error(
        429,
        'too_many_requests',
        `API rate limit of ${this.opts.rateLimitPerMinute} requests per minute exceeded; retry in ${wait} s`,
      );
    }
    if (found.org !== undefined && !this.orgData.has(found.org))
      return plain.error(403, 'access_denied', `Not authorized to access org ${found.org}`);

    const hits = this.faults.take(found.endpoint);
    if (hits.some((f) => f.kind === 'reset')) {
      res.socket?.destroy();
      res.destroy();
      return;
    }
    for (const f of hits) if (f.kind === 'delay') await new Promise((r) => setTimeout(r, f.ms).unref());
    if (res.destroyed) return;
    const respond = hits.find((f) => f.kind === 'respond');
    if (respond) return this.respondFault(res, respond);

    const reply = new Reply(res, bodyFaults(hits));
    const jobFaults = hits.filter(isJobFault);
    const data = found.org === undefined ? undefined : this.orgData.get(found.org);
    const org = found.org ?? 0;
    const id = found.id ?? '';
    switch (found.endpoint) {
      case 'collection':
      case 'submit':
        if (!data) break;
        return this.jobs.get(
          reply,
          data,
          found.collection ?? '',
          url,
          found.endpoint === 'submit',
          hits,
          jobFaults,
        );
      case 'job':
        return this.jobs.poll(reply, org, id);
      case 'jobs':
        return this.jobs.list(reply, org, url.searchParams);
      case 'delete':
        return this.jobs.delete(reply, org, id);
      case 'datafile':
        return this.jobs.datafile(reply, req, org, id);
      case 'traffic-submit':
        return this.traffic.submit(reply, org, body, jobFaults);
      case 'traffic-poll':
        return this.traffic.poll(reply, org, id);
      case 'traffic-list':
        return this.traffic.list(reply, org);
      case 'traffic-download':
        return this.traffic.download(reply, req, org, id);
      case 'traffic-delete':
        return this.traffic.delete(reply, org, id);
      case 'other':
        return this.other(reply, url.pathname);
      default:
        break;
    }
    return reply.error(404, 'not_found', `Not found: ${url.pathname}`);
  }

  private authenticated(header: string | undefined): boolean {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
    if (!m) return false;
    const decoded = Buffer.from(m[1] ?? '', 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const keyOk = timingSafeEqual(digest(decoded.slice(0, colon)), this.keyDigest);
    const secretOk = timingSafeEqual(digest(decoded.slice(colon + 1)), this.secretDigest);
    return keyOk && secretOk;
  }

  private respondFault(res: ServerResponse, f: Extract<Fault, { kind: 'respond' }>): Promise<void> {
    const reply = new Reply(res, bodyFaults([]));
    for (const [name, value] of Object.entries(f.headers ?? {})) reply.header(name, value);
    if (f.retryAfter !== undefined) reply.header('retry-after', String(f.retryAfter));
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

  /** `/health` and `/product_version`. */
  private other(reply: Reply, path: string): Promise<void> {
    if (path.endsWith('/product_version'))
      return reply.json(200, {
        version: '24.2.10',
        build: 250,
        long_display: '24.2.10-250',
        short_display: '24.2.10',
        release_info: 'pce-export simulator',
      });
    return reply.json(200, [
      {
        status: 'normal',
        type: 'snc',
        fqdn: 'pce.corp.example.com',
        available_seconds: 31_536_000,
        generated_at: new Date().toISOString(),
        nodes: [{ hostname: 'pce-core0', type: 'core0', status: 'normal' }],
      },
    ]);
  }
}
