/**
 * Collections over the async job protocol: synchronous GETs, then submit (202 + Location),
 * poll, list, delete and the datafile of a done job.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { USER } from './basis';
import type { Collection, OrgData } from './data';
import type { Fault, JobFault } from './fault-kinds';
import {
  activeStatus,
  cased,
  fateOf,
  fillTemplate,
  type JobCommon,
  phase,
  terminatedAt,
  vanished,
} from './lifecycle';
import type { ServerContext } from './options';
import { countSelected, jsonArrayChunks, type Selection, selectedIndexes, selectionFor } from './query';
import { acceptsGzip, type Reply } from './reply';

export const JOB_TYPE = ':illumio/async_requests';

interface CollectionJob extends JobCommon {
  /** The data's revision when the job was submitted: its datafile is a snapshot of it. */
  readonly revision: number;
  readonly collectionPath: string;
  readonly query: string;
  readonly description: string;
  readonly datafileId: string;
}

export class CollectionJobs {
  private readonly jobs = new Map<string, CollectionJob>();
  private readonly datafiles = new Map<string, string>();
  private readonly counts = new Map<string, number>();

  constructor(private readonly ctx: ServerContext) {}

  /** A collection GET: synchronous, or (with `Prefer: respond-async`) the submit of a job. */
  get(
    reply: Reply,
    data: OrgData,
    path: string,
    url: URL,
    async: boolean,
    hits: readonly Fault[],
    jobFaults: readonly JobFault[],
  ): Promise<void> {
    const collection = data.collection(path, this.ctx.now());
    if (!collection) return reply.error(404, 'not_found', `Not found: /orgs/${data.org}/${path}`);
    const selection = selectionFor(collection, url.searchParams);
    if (typeof selection === 'string') return reply.error(406, 'invalid_uri', `Invalid URI: ${selection}`);
    if (!async) return this.syncGet(reply, data, collection, selection);
    return this.submit(reply, data, collection, url, hits, jobFaults);
  }

  private count(data: OrgData, collection: Collection, selection: Selection): number {
    // The event log moves with time: never cached.
    if (collection.path === 'events') return countSelected(selection);
    const key = `${data.org}|${data.revision}|${collection.path}|${selection.key}`;
    let n = this.counts.get(key);
    if (n === undefined) {
      n = countSelected(selection);
      this.counts.set(key, n);
    }
    return n;
  }

  private syncGet(reply: Reply, data: OrgData, collection: Collection, selection: Selection): Promise<void> {
    const limits = collection.syncLimits;
    if (limits && selection.maxResults !== undefined && selection.maxResults > limits.max)
      return reply.error(406, 'invalid_uri', `Invalid URI: max_results must be at most ${limits.max}`);
    const limit = limits ? (selection.maxResults ?? limits.byDefault) : this.ctx.opts.syncLimit;
    const objects = [...selectedIndexes(selection, limit)].map((i) => collection.object(i));
    reply.header('x-total-count', String(this.count(data, collection, selection)));
    return reply.json(200, objects);
  }

  private submit(
    reply: Reply,
    data: OrgData,
    collection: Collection,
    url: URL,
    hits: readonly Fault[],
    jobFaults: readonly JobFault[],
  ): Promise<void> {
    const id = randomUUID();
    const datafileId = randomUUID();
    const query = url.searchParams.toString();
    const org = data.org;
    const job: CollectionJob = {
      id,
      org,
      revision: data.revision,
      requestedAt: this.ctx.now(),
      collectionPath: collection.path,
      query,
      description: `/orgs/${org}/${url.pathname.replace(/^\/api\/v2\/orgs\/\d+\//, '')}${query ? `?${query}` : ''}`,
      datafileId,
      polls: 0,
      ...fateOf(jobFaults, false),
    };
    this.jobs.set(id, job);
    this.datafiles.set(datafileId, id);
    const href = `/orgs/${org}/jobs/${id}`;
    const location = [...hits].reverse().find((f) => f.kind === 'location');
    const mode = location?.mode ?? this.ctx.opts.locationStyle;
    if (mode === 'relative') reply.header('location', href);
    else if (mode === 'absolute') reply.header('location', `${this.ctx.url()}/api/v2${href}`);
    else if (mode === 'custom')
      reply.header('location', fillTemplate(location?.template ?? '', this.ctx.url(), org, id));
    reply.header('retry-after', String(this.ctx.opts.retryAfterSeconds));
    return reply.empty(202);
  }

  /** The status as the simulator means it (lowercase); `json` shows it in the job's letter case. */
  private status(job: CollectionJob, now: number): string {
    const duration = this.ctx.opts.jobDurationMs;
    const p = phase(job, now, duration);
    if (p === 'pending') return activeStatus(job, now, duration, 'pending');
    if (p === 'running')
      return job.fate.kind === 'never' ? job.fate.status : activeStatus(job, now, duration, 'running');
    switch (job.fate.kind) {
      case 'failed':
        return 'failed';
      case 'status':
        return job.fate.status;
      default:
        return 'done';
    }
  }

  private json(job: CollectionJob, now: number): Record<string, unknown> {
    const duration = this.ctx.opts.jobDurationMs;
    const status = this.status(job, now);
    const terminal = phase(job, now, duration) === 'terminal';
    let result: Record<string, unknown> = {};
    if (terminal && job.fate.kind === 'done')
      result = {
        href: job.resultHref
          ? fillTemplate(job.resultHref, this.ctx.url(), job.org, job.datafileId)
          : `/orgs/${job.org}/datafiles/${job.datafileId}`,
      };
    else if (terminal && job.fate.kind === 'failed') result = { message: job.fate.message };
    const href = `/orgs/${job.org}/jobs/${job.id}`;
    return {
      href: job.jobHref ? fillTemplate(job.jobHref, this.ctx.url(), job.org, job.id) : href,
      job_type: JOB_TYPE,
      description: job.description,
      result,
      status: cased(status, job.statusCase),
      requested_at: new Date(job.requestedAt).toISOString(),
      ...(terminal ? { terminated_at: new Date(terminatedAt(job, duration)).toISOString() } : {}),
      requested_by: USER,
      created_by: USER,
      ...job.extraFields,
    };
  }

  /** The job if it exists in this org and has not vanished; a vanished job is forgotten. */
  private find(org: number, id: string): CollectionJob | undefined {
    const job = this.jobs.get(id);
    if (!job || job.org !== org) return undefined;
    if (vanished(job)) {
      this.jobs.delete(id);
      this.datafiles.delete(job.datafileId);
      return undefined;
    }
    return job;
  }

  poll(reply: Reply, org: number, id: string): Promise<void> {
    const job = this.find(org, id);
    if (!job) return reply.error(404, 'not_found', `Job /orgs/${org}/jobs/${id} not found`);
    job.polls++;
    const now = this.ctx.now();
    if (phase(job, now, this.ctx.opts.jobDurationMs) !== 'terminal')
      reply.header('retry-after', String(this.ctx.opts.retryAfterSeconds));
    return reply.json(200, this.json(job, now));
  }

  list(reply: Reply, org: number, params: URLSearchParams): Promise<void> {
    const max = params.get('max_results');
    if (max !== null && !/^\d{1,10}$/.test(max))
      return reply.error(406, 'invalid_uri', `Invalid URI: max_results must be a non-negative integer`);
    const jobType = params.get('job_type');
    const now = this.ctx.now();
    const jobs = [...this.jobs.values()]
      .filter((j) => j.org === org && (jobType === null || jobType === JOB_TYPE))
      .reverse()
      .slice(0, max === null ? undefined : Number(max))
      .map((j) => this.json(j, now));
    return reply.json(200, jobs);
  }

  delete(reply: Reply, org: number, id: string): Promise<void> {
    const job = this.find(org, id);
    if (!job) return reply.error(404, 'not_found', `Job /orgs/${org}/jobs/${id} not found`);
    this.jobs.delete(id);
    this.datafiles.delete(job.datafileId);
    return reply.empty(204);
  }

  datafile(reply: Reply, req: IncomingMessage, org: number, id: string): Promise<void> {
    const jobId = this.datafiles.get(id);
    const job = jobId === undefined ? undefined : this.jobs.get(jobId);
    const notFound = () => reply.error(404, 'not_found', `Datafile /orgs/${org}/datafiles/${id} not found`);
    if (
      !job ||
      job.org !== org ||
      vanished(job) ||
      job.fate.kind !== 'done' ||
      this.status(job, this.ctx.now()) !== 'done'
    )
      return notFound();
    const data = this.ctx.dataAt(org, job.revision);
    const collection = data?.collection(job.collectionPath, job.requestedAt);
    const selection = collection && selectionFor(collection, new URLSearchParams(job.query));
    if (!collection || selection === undefined || typeof selection === 'string') return notFound();
    const chunks = jsonArrayChunks(selectedIndexes(selection), (i) => collection.text(i));
    return reply.stream(200, chunks, acceptsGzip(req.headers['accept-encoding']));
  }
}
