/** The simulated PCE's front: listening, auth, rate limiting, faults, and routing to the handlers. */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Clock } from './clock';
import { CONTROL_PREFIX, control } from './control';
import { answer, answeringFault } from './fault-answers';
import { FaultRegistry, isJobFault } from './faults';
import { CollectionJobs } from './jobs';
import { Listener } from './listener';
import { type ResolvedOptions, resolveOptions } from './options';
import { bodyFaults, Reply } from './reply';
import { route } from './routes';
import { OrgStore, type RevisionChanges } from './store';
import { TrafficQueries } from './traffic-queries';
import type { RecordedRequest, RunningSimulator, SimulatorOptions, TrafficQueryRecord } from './types';

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

/** Cuts the connection without answering (a reset). */
function drop(res: ServerResponse): void {
  res.socket?.destroy();
  res.destroy();
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
  readonly clock: Clock;

  private readonly opts: ResolvedOptions;
  private readonly store: OrgStore;
  private readonly jobs: CollectionJobs;
  private readonly traffic: TrafficQueries;
  private readonly limiter: RateLimiter;
  private readonly listener: Listener;
  private readonly keyDigest: Buffer;
  private readonly secretDigest: Buffer;

  private constructor(options: SimulatorOptions) {
    this.opts = resolveOptions(options);
    this.clock = new Clock(this.opts.clock);
    this.credentials = this.opts.credentials;
    this.listener = new Listener(this.opts.host, this.opts.tls, (req, res) => this.onRequest(req, res));
    this.faults = new FaultRegistry(
      {
        clock: this.clock,
        startedAt: this.clock.now(),
        setAccepting: (accepting) => this.listener.setAccepting(accepting),
      },
      options.faults ?? [],
    );
    this.limiter = new RateLimiter(this.opts.rateLimitPerMinute);
    this.keyDigest = digest(this.credentials.apiKey);
    this.secretDigest = digest(this.credentials.apiSecret);
    this.store = new OrgStore(
      this.opts.orgs,
      this.opts.seed,
      this.opts.dataset,
      this.opts.revision,
      this.clock.now(),
    );
    const ctx = {
      opts: this.opts,
      orgData: this.store.current,
      dataAt: (org: number, revision: number) => this.store.at(org, revision),
      url: () => this.url,
      now: () => this.clock.now(),
    };
    this.jobs = new CollectionJobs(ctx);
    this.traffic = new TrafficQueries(ctx);
  }

  static async start(options: SimulatorOptions = {}): Promise<Simulator> {
    const sim = new Simulator(options);
    await sim.listener.start(sim.opts.port);
    // Faults given in the options may have a window that is already open (a refused listener).
    await sim.listener.setAccepting(!sim.faults.refusing());
    return sim;
  }

  get url(): string {
    return this.listener.url;
  }

  get caPem(): string | undefined {
    return this.listener.caPem;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.handle(req, res).catch((err: unknown) => {
      // A bug in the simulator: answer 500 like a PCE would, if still possible.
      if (!res.headersSent && !res.destroyed) {
        res.statusCode = 500;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify([{ token: 'internal_server_error', message: String(err) }]));
      } else res.destroy();
    });
  }

  trafficQueries(): readonly TrafficQueryRecord[] {
    return this.traffic.records();
  }

  bytesSent(): number {
    return this.listener.bytesSent();
  }

  get revision(): number {
    return this.store.revision;
  }

  setRevision(revision: number): void {
    this.store.set(revision, this.clock.now());
  }

  changes(from: number, to: number, org = this.opts.orgs[0] ?? 1): RevisionChanges {
    return this.store.changes(from, to, org);
  }

  async close(): Promise<void> {
    this.clock.close();
    await this.listener.close();
  }

  private record(req: IncomingMessage, res: ServerResponse, url: URL, now: number): RecordedRequest {
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
    return record;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const now = this.clock.now();
    const url = new URL(req.url ?? '/', 'http://pce.invalid');
    const record = this.record(req, res, url, now);
    res.setHeader('x-request-id', randomUUID());
    res.setHeader('cache-control', 'no-cache');

    const plain = new Reply(res, bodyFaults([]));
    const body = req.method === 'POST' || req.method === 'PUT' ? await readBody(req) : '';
    if (body === null) return;
    if (body === undefined) return plain.error(413, 'request_too_large', 'Request body larger than 1 MB');
    if (body) record.body = body;

    if (url.pathname.startsWith(CONTROL_PREFIX)) {
      if (!this.authenticated(req.headers.authorization))
        return plain.error(401, 'authentication_failed', 'Authentication failed: invalid API key or secret');
      const org = this.opts.orgs[0] ?? 1;
      return control(plain, record.method, url.pathname, body, this.store, (r) => this.setRevision(r), org);
    }

    const found = route(req.method ?? 'GET', url.pathname, record.headers.prefer);
    if (found === undefined) return plain.error(404, 'not_found', `Not found: ${url.pathname}`);
    if (found === 'method')
      return plain.error(405, 'method_not_allowed', `${req.method} not allowed on ${url.pathname}`);
    record.endpoint = found.endpoint;

    // The front end: a PCE that is down or refusing answers before it looks at credentials.
    const front = this.faults.take(found.endpoint, 'front');
    if (front.some((f) => f.kind === 'refuse')) return drop(res);
    const frontAnswer = answeringFault(front);
    if (frontAnswer) return answer(res, frontAnswer, front);

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
    if (found.org !== undefined && !this.store.current.has(found.org))
      return plain.error(403, 'access_denied', `Not authorized to access org ${found.org}`);

    const hits = this.faults.take(found.endpoint, 'app');
    if (hits.some((f) => f.kind === 'reset')) return drop(res);
    for (const f of hits) if (f.kind === 'delay') await new Promise((r) => setTimeout(r, f.ms).unref());
    if (res.destroyed) return;
    const made = answeringFault(hits);
    if (made) return answer(res, made, hits);

    const reply = new Reply(res, bodyFaults(hits));
    const jobFaults = hits.filter(isJobFault);
    const data = found.org === undefined ? undefined : this.store.current.get(found.org);
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
      case 'traffic-update-rules':
        return this.traffic.updateRules(reply, org, id);
      case 'traffic-delete':
        return this.traffic.delete(reply, org, id);
      case 'object': {
        const object = data?.object(found.collection ?? '', this.clock.now());
        if (object) return reply.json(200, object);
        return reply.error(404, 'not_found', `Object /orgs/${org}/${found.collection ?? ''} not found`);
      }
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
        generated_at: new Date(this.clock.now()).toISOString(),
        nodes: [{ hostname: 'pce-core0', type: 'core0', status: 'normal' }],
      },
    ]);
  }
}
