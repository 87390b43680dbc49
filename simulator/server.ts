/** The simulated PCE: routing, auth, rate limiting, jobs, datafiles and traffic queries. */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { type Collection, DEFAULT_DATASET, OrgData } from './data';
import { type Fault, type FaultEndpoint, FaultRegistry, isJobFault, type JobFault } from './faults';
import { countSelected, jsonArrayChunks, type Selection, selectedIndexes, selectionFor } from './query';
import { acceptsGzip, bodyFaults, Reply } from './reply';
import { generateServerTls } from './tls';
import { FlowGenerator, parseTrafficQuery, type TrafficQueryParams } from './traffic';
import type { DatasetSizes, RecordedRequest, RunningSimulator, SimulatorOptions } from './types';

export const JOB_TYPE = ':illumio/async_requests';
const USER = { href: '/users/1' } as const;
const MAX_REQUEST_BODY = 1024 * 1024;
/** Share of the job duration spent `pending` (traffic: `queued`). */
const PENDING_SHARE = 0.2;

interface ResolvedOptions {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly credentials: { readonly apiKey: string; readonly apiSecret: string };
  readonly orgs: readonly number[];
  readonly seed: number;
  readonly dataset: Readonly<Required<DatasetSizes>>;
  readonly jobDurationMs: number;
  readonly retryAfterSeconds: number;
  readonly rateLimitPerMinute: number;
  readonly syncLimit: number;
  readonly locationStyle: 'relative' | 'absolute';
  readonly maxRecordedRequests: number;
}

/** What a job turns into when its time is up. */
type Fate =
  | { readonly kind: 'done' }
  | { readonly kind: 'failed'; readonly message: string; readonly atMs?: number }
  | { readonly kind: 'status'; readonly status: string; readonly atMs?: number }
  | { readonly kind: 'never'; readonly status: string };

interface JobCommon {
  readonly id: string;
  readonly org: number;
  readonly requestedAt: number;
  readonly fate: Fate;
  readonly vanishAfterPolls?: number;
  readonly resultHref?: string;
  polls: number;
}

interface CollectionJob extends JobCommon {
  readonly collectionPath: string;
  readonly query: string;
  readonly description: string;
  readonly datafileId: string;
}

interface TrafficJob extends JobCommon {
  readonly params: TrafficQueryParams;
}

type Phase = 'pending' | 'running' | 'terminal';

interface Route {
  readonly endpoint: FaultEndpoint;
  readonly org?: number;
  readonly id?: string;
  readonly collection?: string;
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|::1|localhost)$/;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

function positiveInt(name: string, value: number, allowZero = false): number {
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1))
    throw new TypeError(`${name} must be an integer >= ${allowZero ? 0 : 1}, got ${value}`);
  return value;
}

function resolveOptions(options: SimulatorOptions): ResolvedOptions {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopback(host))
    throw new TypeError(`host must be a loopback address (127.x.x.x, ::1, localhost), got ${host}`);
  const dataset = { ...DEFAULT_DATASET, ...options.dataset };
  for (const [name, value] of Object.entries(dataset)) positiveInt(`dataset.${name}`, value, true);
  const orgs = options.orgs ?? [1];
  for (const org of orgs) positiveInt('orgs[]', org);
  const rate = options.rateLimitPerMinute ?? 500;
  if (!(rate >= 0)) throw new TypeError(`rateLimitPerMinute must be >= 0, got ${rate}`);
  const credentials = options.credentials ?? {
    apiKey: `api_${randomBytes(8).toString('hex')}`,
    apiSecret: randomBytes(32).toString('hex'),
  };
  if (!credentials.apiKey || credentials.apiKey.includes(':'))
    throw new TypeError('apiKey must be non-empty without ":"');
  return {
    host,
    port: positiveInt('port', options.port ?? 0, true),
    tls: options.tls ?? false,
    credentials,
    orgs,
    seed: positiveInt('seed', options.seed ?? 1, true),
    dataset,
    jobDurationMs: positiveInt('jobDurationMs', options.jobDurationMs ?? 1500, true),
    retryAfterSeconds: positiveInt('retryAfterSeconds', options.retryAfterSeconds ?? 1, true),
    rateLimitPerMinute: rate,
    syncLimit: positiveInt('syncLimit', options.syncLimit ?? 500),
    locationStyle: options.locationStyle ?? 'relative',
    maxRecordedRequests: positiveInt('maxRecordedRequests', options.maxRecordedRequests ?? 10_000, true),
  };
}

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

export class Simulator implements RunningSimulator {
  readonly requests: RecordedRequest[] = [];
  readonly faults: FaultRegistry;
  readonly credentials: { readonly apiKey: string; readonly apiSecret: string };
  url = '';
  caPem?: string;

  private readonly opts: ResolvedOptions;
  private readonly orgData = new Map<number, OrgData>();
  private readonly jobs = new Map<string, CollectionJob>();
  private readonly datafiles = new Map<string, string>();
  private readonly queries = new Map<string, TrafficJob>();
  private readonly counts = new Map<string, number>();
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

  // ---- request handling ---------------------------------------------------------------

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
    const body = req.method === 'POST' || req.method === 'PUT' ? await this.readBody(req) : '';
    if (body === null) return;
    if (body === undefined) return plain.error(413, 'request_too_large', 'Request body larger than 1 MB');
    if (body) record.body = body;

    const route = this.route(req.method ?? 'GET', url.pathname, record.headers.prefer);
    if (route === undefined) return plain.error(404, 'not_found', `Not found: ${url.pathname}`);
    if (route === 'method')
      return plain.error(405, 'method_not_allowed', `${req.method} not allowed on ${url.pathname}`);
    record.endpoint = route.endpoint;

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
    if (route.org !== undefined && !this.orgData.has(route.org))
      return plain.error(403, 'access_denied', `Not authorized to access org ${route.org}`);

    const hits = this.faults.take(route.endpoint);
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
    const data = route.org === undefined ? undefined : this.orgData.get(route.org);
    const org = route.org ?? 0;
    const id = route.id ?? '';
    switch (route.endpoint) {
      case 'collection':
      case 'submit': {
        if (!data) break;
        const collection = data.collection(route.collection ?? '');
        if (!collection) return reply.error(404, 'not_found', `Not found: /orgs/${org}/${route.collection}`);
        const selection = selectionFor(collection, url.searchParams);
        if (typeof selection === 'string')
          return reply.error(406, 'invalid_uri', `Invalid URI: ${selection}`);
        if (route.endpoint === 'collection') return this.syncGet(reply, data, collection, selection);
        return this.submit(reply, org, collection, url, hits, jobFaults);
      }
      case 'job':
        return this.pollJob(reply, org, id);
      case 'jobs':
        return this.listJobs(reply, org, url.searchParams);
      case 'delete':
        return this.deleteJob(reply, org, id);
      case 'datafile':
        return this.datafile(reply, req, org, id);
      case 'traffic-submit':
        return this.submitTraffic(reply, org, body, jobFaults);
      case 'traffic-poll':
        return this.pollTraffic(reply, org, id);
      case 'traffic-list':
        return reply.json(
          200,
          [...this.queries.values()]
            .filter((q) => q.org === org)
            .reverse()
            .map((q) => this.trafficJson(q, Date.now())),
        );
      case 'traffic-download':
        return this.downloadTraffic(reply, req, org, id);
      case 'traffic-delete':
        return this.deleteTraffic(reply, org, id);
      case 'other':
        return this.other(reply, url.pathname);
      default:
        break;
    }
    return reply.error(404, 'not_found', `Not found: ${url.pathname}`);
  }

  /** The request body; undefined when over 1 MB, null when the upload was aborted. */
  private readBody(req: IncomingMessage): Promise<string | undefined | null> {
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

  private route(method: string, path: string, prefer: string | undefined): Route | 'method' | undefined {
    if (!path.startsWith('/api/v2/')) return undefined;
    const rest = path.slice('/api/v2'.length);
    const only = (allowed: string, route: Route): Route | 'method' => (method === allowed ? route : 'method');
    if (rest === '/health' || rest === '/product_version') return only('GET', { endpoint: 'other' });
    const m = /^\/orgs\/(\d{1,9})(\/.*)$/.exec(rest);
    if (!m) return undefined;
    const org = Number(m[1]);
    const sub = m[2] ?? '';
    if (sub === '/jobs') return only('GET', { endpoint: 'jobs', org });
    const job = /^\/jobs\/([^/]+)$/.exec(sub);
    if (job) {
      const id = decode(job[1]);
      if (method === 'DELETE') return { endpoint: 'delete', org, id };
      return only('GET', { endpoint: 'job', org, id });
    }
    const datafile = /^\/datafiles\/([^/]+)$/.exec(sub);
    if (datafile) return only('GET', { endpoint: 'datafile', org, id: decode(datafile[1]) });
    if (sub === '/traffic_flows/async_queries') {
      if (method === 'POST') return { endpoint: 'traffic-submit', org };
      return only('GET', { endpoint: 'traffic-list', org });
    }
    const query = /^\/traffic_flows\/async_queries\/([^/]+)(\/download)?$/.exec(sub);
    if (query) {
      const id = decode(query[1]);
      if (query[2]) return only('GET', { endpoint: 'traffic-download', org, id });
      if (method === 'DELETE') return { endpoint: 'traffic-delete', org, id };
      return only('GET', { endpoint: 'traffic-poll', org, id });
    }
    if (/^\/[a-z_]+(\/[a-z_]+)*$/.test(sub)) {
      const async = (prefer ?? '')
        .toLowerCase()
        .split(/[,;]/)
        .some((t) => t.trim() === 'respond-async');
      return only('GET', { endpoint: async ? 'submit' : 'collection', org, collection: sub.slice(1) });
    }
    return undefined;
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

  // ---- collections and jobs -----------------------------------------------------------

  private count(data: OrgData, collection: Collection, selection: Selection): number {
    const key = `${data.org}|${collection.path}|${selection.key}`;
    let n = this.counts.get(key);
    if (n === undefined) {
      n = countSelected(collection, selection);
      this.counts.set(key, n);
    }
    return n;
  }

  private syncGet(reply: Reply, data: OrgData, collection: Collection, selection: Selection): Promise<void> {
    const objects = [...selectedIndexes(collection, selection, this.opts.syncLimit)].map((i) =>
      collection.object(i),
    );
    reply.header('x-total-count', String(this.count(data, collection, selection)));
    return reply.json(200, objects);
  }

  private fateOf(
    jobFaults: readonly JobFault[],
    traffic: boolean,
  ): Pick<JobCommon, 'fate' | 'vanishAfterPolls' | 'resultHref'> {
    let fate: Fate = { kind: 'done' };
    let vanishAfterPolls: number | undefined;
    let resultHref: string | undefined;
    for (const f of jobFaults) {
      if (f.kind === 'job-fails')
        fate = {
          kind: 'failed',
          message: f.message ?? 'Job failed: exceeded time limit',
          ...(f.afterMs === undefined ? {} : { atMs: f.afterMs }),
        };
      else if (f.kind === 'job-status')
        fate = { kind: 'status', status: f.status, ...(f.afterMs === undefined ? {} : { atMs: f.afterMs }) };
      else if (f.kind === 'job-never-finishes')
        fate = { kind: 'never', status: f.status ?? (traffic ? 'working' : 'running') };
      else if (f.kind === 'job-vanishes') vanishAfterPolls = f.afterPolls ?? 0;
      else resultHref = f.href;
    }
    return {
      fate,
      ...(vanishAfterPolls === undefined ? {} : { vanishAfterPolls }),
      ...(resultHref === undefined ? {} : { resultHref }),
    };
  }

  private submit(
    reply: Reply,
    org: number,
    collection: Collection,
    url: URL,
    hits: readonly Fault[],
    jobFaults: readonly JobFault[],
  ): Promise<void> {
    const id = randomUUID();
    const datafileId = randomUUID();
    const query = url.searchParams.toString();
    const job: CollectionJob = {
      id,
      org,
      requestedAt: Date.now(),
      collectionPath: collection.path,
      query,
      description: `/orgs/${org}/${url.pathname.replace(/^\/api\/v2\/orgs\/\d+\//, '')}${query ? `?${query}` : ''}`,
      datafileId,
      polls: 0,
      ...this.fateOf(jobFaults, false),
    };
    this.jobs.set(id, job);
    this.datafiles.set(datafileId, id);
    const href = `/orgs/${org}/jobs/${id}`;
    const location = [...hits].reverse().find((f) => f.kind === 'location');
    const mode = location?.mode ?? this.opts.locationStyle;
    if (mode === 'relative') reply.header('location', href);
    else if (mode === 'absolute') reply.header('location', `${this.url}/api/v2${href}`);
    else if (mode === 'custom') reply.header('location', this.fill(location?.template ?? '', org, id));
    reply.header('retry-after', String(this.opts.retryAfterSeconds));
    return reply.empty(202);
  }

  private fill(template: string, org: number, id: string): string {
    return template.replaceAll('{url}', this.url).replaceAll('{org}', String(org)).replaceAll('{id}', id);
  }

  private phase(job: JobCommon, now: number): Phase {
    const elapsed = now - job.requestedAt;
    const pendingUntil = this.opts.jobDurationMs * PENDING_SHARE;
    if (job.fate.kind === 'never') return elapsed < pendingUntil ? 'pending' : 'running';
    const end = 'atMs' in job.fate && job.fate.atMs !== undefined ? job.fate.atMs : this.opts.jobDurationMs;
    if (elapsed >= end) return 'terminal';
    return elapsed < pendingUntil ? 'pending' : 'running';
  }

  private terminatedAt(job: JobCommon): number {
    const end = 'atMs' in job.fate && job.fate.atMs !== undefined ? job.fate.atMs : this.opts.jobDurationMs;
    return job.requestedAt + end;
  }

  private jobStatus(job: CollectionJob, now: number): string {
    const phase = this.phase(job, now);
    if (phase === 'pending') return 'pending';
    if (phase === 'running') return job.fate.kind === 'never' ? job.fate.status : 'running';
    switch (job.fate.kind) {
      case 'failed':
        return 'failed';
      case 'status':
        return job.fate.status;
      default:
        return 'done';
    }
  }

  private jobJson(job: CollectionJob, now: number): Record<string, unknown> {
    const status = this.jobStatus(job, now);
    const terminal = this.phase(job, now) === 'terminal';
    let result: Record<string, unknown> = {};
    if (terminal && job.fate.kind === 'done')
      result = {
        href: job.resultHref ? this.fill(job.resultHref, job.org, job.datafileId) : this.datafileHref(job),
      };
    else if (terminal && job.fate.kind === 'failed') result = { message: job.fate.message };
    return {
      href: `/orgs/${job.org}/jobs/${job.id}`,
      job_type: JOB_TYPE,
      description: job.description,
      result,
      status,
      requested_at: new Date(job.requestedAt).toISOString(),
      ...(terminal ? { terminated_at: new Date(this.terminatedAt(job)).toISOString() } : {}),
      requested_by: USER,
      created_by: USER,
    };
  }

  private datafileHref(job: CollectionJob): string {
    return `/orgs/${job.org}/datafiles/${job.datafileId}`;
  }

  /** The job if it exists in this org and has not vanished; a vanished job is forgotten. */
  private findJob(org: number, id: string): CollectionJob | undefined {
    const job = this.jobs.get(id);
    if (!job || job.org !== org) return undefined;
    if (vanished(job)) {
      this.jobs.delete(id);
      this.datafiles.delete(job.datafileId);
      return undefined;
    }
    return job;
  }

  private pollJob(reply: Reply, org: number, id: string): Promise<void> {
    const job = this.findJob(org, id);
    if (!job) return reply.error(404, 'not_found', `Job /orgs/${org}/jobs/${id} not found`);
    job.polls++;
    const now = Date.now();
    if (this.phase(job, now) !== 'terminal') reply.header('retry-after', String(this.opts.retryAfterSeconds));
    return reply.json(200, this.jobJson(job, now));
  }

  private listJobs(reply: Reply, org: number, params: URLSearchParams): Promise<void> {
    const max = params.get('max_results');
    if (max !== null && !/^\d{1,10}$/.test(max))
      return reply.error(406, 'invalid_uri', `Invalid URI: max_results must be a non-negative integer`);
    const jobType = params.get('job_type');
    const now = Date.now();
    const jobs = [...this.jobs.values()]
      .filter((j) => j.org === org && (jobType === null || jobType === JOB_TYPE))
      .reverse()
      .slice(0, max === null ? undefined : Number(max))
      .map((j) => this.jobJson(j, now));
    return reply.json(200, jobs);
  }

  private deleteJob(reply: Reply, org: number, id: string): Promise<void> {
    const job = this.findJob(org, id);
    if (!job) return reply.error(404, 'not_found', `Job /orgs/${org}/jobs/${id} not found`);
    this.jobs.delete(id);
    this.datafiles.delete(job.datafileId);
    return reply.empty(204);
  }

  private datafile(reply: Reply, req: IncomingMessage, org: number, id: string): Promise<void> {
    const jobId = this.datafiles.get(id);
    const job = jobId === undefined ? undefined : this.jobs.get(jobId);
    const notFound = () => reply.error(404, 'not_found', `Datafile /orgs/${org}/datafiles/${id} not found`);
    if (
      !job ||
      job.org !== org ||
      vanished(job) ||
      job.fate.kind !== 'done' ||
      this.jobStatus(job, Date.now()) !== 'done'
    )
      return notFound();
    const data = this.orgData.get(org);
    const collection = data?.collection(job.collectionPath);
    const selection = collection && selectionFor(collection, new URLSearchParams(job.query));
    if (!collection || selection === undefined || typeof selection === 'string') return notFound();
    const chunks = jsonArrayChunks(selectedIndexes(collection, selection), (i) => collection.text(i));
    return reply.stream(200, chunks, acceptsGzip(req.headers['accept-encoding']));
  }

  // ---- traffic ------------------------------------------------------------------------

  private submitTraffic(
    reply: Reply,
    org: number,
    body: string,
    jobFaults: readonly JobFault[],
  ): Promise<void> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return reply.error(400, 'invalid_request_body', 'Request body is not valid JSON');
    }
    const params = parseTrafficQuery(parsed);
    if (typeof params === 'string') return reply.error(406, 'input_validation_error', params);
    const query: TrafficJob = {
      id: randomUUID(),
      org,
      requestedAt: Date.now(),
      params,
      polls: 0,
      ...this.fateOf(jobFaults, true),
    };
    this.queries.set(query.id, query);
    return reply.json(202, this.trafficJson(query, query.requestedAt));
  }

  private flowsCount(q: TrafficJob): number {
    return Math.min(q.params.max_results, this.opts.dataset.trafficFlows);
  }

  private trafficStatus(q: TrafficJob, now: number): string {
    const phase = this.phase(q, now);
    if (phase === 'pending') return 'queued';
    if (phase === 'running') return q.fate.kind === 'never' ? q.fate.status : 'working';
    if (q.fate.kind === 'failed') return 'failed';
    if (q.fate.kind === 'status') return q.fate.status;
    return 'completed';
  }

  private trafficJson(q: TrafficJob, now: number): Record<string, unknown> {
    const status = this.trafficStatus(q, now);
    const href = `/orgs/${q.org}/traffic_flows/async_queries/${q.id}`;
    const phase = this.phase(q, now);
    const updated =
      phase === 'terminal'
        ? this.terminatedAt(q)
        : phase === 'running'
          ? q.requestedAt + this.opts.jobDurationMs * PENDING_SHARE
          : q.requestedAt;
    const out: Record<string, unknown> = {
      href,
      status,
      query_parameters: q.params,
      created_at: new Date(q.requestedAt).toISOString(),
      updated_at: new Date(updated).toISOString(),
      created_by: USER,
    };
    if (status === 'completed') {
      const count = this.flowsCount(q);
      out.result = q.resultHref ? this.fill(q.resultHref, q.org, q.id) : `${href}/download`;
      out.flows_count = count;
      out.matches_count = count;
      out.rules = { status: 'completed' };
    } else if (status === 'failed' && q.fate.kind === 'failed') {
      out.error_message = q.fate.message;
    }
    return out;
  }

  private findQuery(org: number, id: string): TrafficJob | undefined {
    const q = this.queries.get(id);
    if (!q || q.org !== org) return undefined;
    if (vanished(q)) {
      this.queries.delete(id);
      return undefined;
    }
    return q;
  }

  private pollTraffic(reply: Reply, org: number, id: string): Promise<void> {
    const q = this.findQuery(org, id);
    if (!q) return queryNotFound(reply, org, id);
    q.polls++;
    return reply.json(200, this.trafficJson(q, Date.now()));
  }

  private downloadTraffic(reply: Reply, req: IncomingMessage, org: number, id: string): Promise<void> {
    const q = this.findQuery(org, id);
    if (!q) return queryNotFound(reply, org, id);
    const status = this.trafficStatus(q, Date.now());
    if (status !== 'completed')
      return reply.error(404, 'not_found', `Async query ${id} has no results (status: ${status})`);
    const data = this.orgData.get(org);
    if (!data) return reply.error(404, 'not_found', `Org ${org} not found`);
    const generator = new FlowGenerator(data, this.opts.seed, q.params);
    const count = this.flowsCount(q);
    function* indexes(): Generator<number> {
      for (let i = 0; i < count; i++) yield i;
    }
    const chunks = jsonArrayChunks(indexes(), (i) => JSON.stringify(generator.flow(i)));
    return reply.stream(200, chunks, acceptsGzip(req.headers['accept-encoding']));
  }

  private deleteTraffic(reply: Reply, org: number, id: string): Promise<void> {
    const q = this.findQuery(org, id);
    if (!q) return queryNotFound(reply, org, id);
    this.queries.delete(id);
    return reply.empty(204);
  }

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

function decode(segment: string | undefined): string {
  try {
    return decodeURIComponent(segment ?? '');
  } catch {
    return segment ?? '';
  }
}

/** A job with a `job-vanishes` fault is gone once it has been polled `afterPolls` times. */
function vanished(job: JobCommon): boolean {
  return job.vanishAfterPolls !== undefined && job.polls >= job.vanishAfterPolls;
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

function queryNotFound(reply: Reply, org: number, id: string): Promise<void> {
  return reply.error(
    404,
    'not_found',
    `Async query /orgs/${org}/traffic_flows/async_queries/${id} not found`,
  );
}
