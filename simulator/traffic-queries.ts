/**
 * Explorer async traffic queries over HTTP: submit (POST), poll (`queued` → `working` →
 * `completed`), list, download and delete.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { USER } from './basis';
import type { JobFault } from './fault-kinds';
import {
  fateOf,
  fillTemplate,
  type JobCommon,
  PENDING_SHARE,
  phase,
  terminatedAt,
  vanished,
} from './lifecycle';
import type { ServerContext } from './options';
import { jsonArrayChunks } from './query';
import { acceptsGzip, type Reply } from './reply';
import { FlowGenerator, parseTrafficQuery, type TrafficQueryParams } from './traffic';

interface TrafficJob extends JobCommon {
  readonly params: TrafficQueryParams;
}

function queryNotFound(reply: Reply, org: number, id: string): Promise<void> {
  return reply.error(
    404,
    'not_found',
    `Async query /orgs/${org}/traffic_flows/async_queries/${id} not found`,
  );
}

export class TrafficQueries {
  private readonly queries = new Map<string, TrafficJob>();

  constructor(private readonly ctx: ServerContext) {}

  submit(reply: Reply, org: number, body: string, jobFaults: readonly JobFault[]): Promise<void> {
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
      ...fateOf(jobFaults, true),
    };
    this.queries.set(query.id, query);
    return reply.json(202, this.json(query, query.requestedAt));
  }

  private flowsCount(q: TrafficJob): number {
    return Math.min(q.params.max_results, this.ctx.opts.dataset.trafficFlows);
  }

  private status(q: TrafficJob, now: number): string {
    const p = phase(q, now, this.ctx.opts.jobDurationMs);
    if (p === 'pending') return 'queued';
    if (p === 'running') return q.fate.kind === 'never' ? q.fate.status : 'working';
    if (q.fate.kind === 'failed') return 'failed';
    if (q.fate.kind === 'status') return q.fate.status;
    return 'completed';
  }

  private json(q: TrafficJob, now: number): Record<string, unknown> {
    const duration = this.ctx.opts.jobDurationMs;
    const status = this.status(q, now);
    const href = `/orgs/${q.org}/traffic_flows/async_queries/${q.id}`;
    const p = phase(q, now, duration);
    const updated =
      p === 'terminal'
        ? terminatedAt(q, duration)
        : p === 'running'
          ? q.requestedAt + duration * PENDING_SHARE
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
      out.result = q.resultHref
        ? fillTemplate(q.resultHref, this.ctx.url(), q.org, q.id)
        : `${href}/download`;
      out.flows_count = count;
      out.matches_count = count;
      out.rules = { status: 'completed' };
    } else if (status === 'failed' && q.fate.kind === 'failed') {
      out.error_message = q.fate.message;
    }
    return out;
  }

  private find(org: number, id: string): TrafficJob | undefined {
    const q = this.queries.get(id);
    if (!q || q.org !== org) return undefined;
    if (vanished(q)) {
      this.queries.delete(id);
      return undefined;
    }
    return q;
  }

  list(reply: Reply, org: number): Promise<void> {
    return reply.json(
      200,
      [...this.queries.values()]
        .filter((q) => q.org === org)
        .reverse()
        .map((q) => this.json(q, Date.now())),
    );
  }

  poll(reply: Reply, org: number, id: string): Promise<void> {
    const q = this.find(org, id);
    if (!q) return queryNotFound(reply, org, id);
    q.polls++;
    return reply.json(200, this.json(q, Date.now()));
  }

  download(reply: Reply, req: IncomingMessage, org: number, id: string): Promise<void> {
    const q = this.find(org, id);
    if (!q) return queryNotFound(reply, org, id);
    const status = this.status(q, Date.now());
    if (status !== 'completed')
      return reply.error(404, 'not_found', `Async query ${id} has no results (status: ${status})`);
    const data = this.ctx.orgData.get(org);
    if (!data) return reply.error(404, 'not_found', `Org ${org} not found`);
    const generator = new FlowGenerator(data, this.ctx.opts.seed, q.params);
    const count = this.flowsCount(q);
    function* indexes(): Generator<number> {
      for (let i = 0; i < count; i++) yield i;
    }
    const chunks = jsonArrayChunks(indexes(), (i) => JSON.stringify(generator.flow(i)));
    return reply.stream(200, chunks, acceptsGzip(req.headers['accept-encoding']));
  }

  delete(reply: Reply, org: number, id: string): Promise<void> {
    const q = this.find(org, id);
    if (!q) return queryNotFound(reply, org, id);
    this.queries.delete(id);
    return reply.empty(204);
  }
}
