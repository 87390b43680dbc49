/**
 * Explorer async traffic queries over HTTP: submit (POST), poll (`queued` → `working` →
 * `completed`), update_rules (draft policy), list, download and delete. A query completes once
 * its job time has passed and its matches are counted; a record of every query is kept.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { USER } from './basis';
import type { JobFault } from './fault-kinds';
import { type CompiledFilters, compileFilters } from './flow-filters';
import { FlowPopulation, type FlowWindow, newCore } from './flow-population';
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
import type { TrafficQueryRecord } from './types';

interface TrafficJob extends JobCommon {
  readonly params: TrafficQueryParams;
  readonly filters: CompiledFilters;
  readonly window: FlowWindow;
  /** Flows that match, once counted. */
  matches?: number;
  countedAt?: number;
  /** When update_rules was accepted. */
  rulesAt?: number;
  downloads: number;
  deletedAt?: number;
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
  private readonly all: TrafficJob[] = [];
  private readonly populations = new Map<number, FlowPopulation>();

  constructor(private readonly ctx: ServerContext) {
    for (const [org, data] of ctx.orgData)
      this.populations.set(org, new FlowPopulation(data, ctx.opts.seed, ctx.opts.traffic));
  }

  submit(reply: Reply, org: number, body: string, jobFaults: readonly JobFault[]): Promise<void> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return reply.error(400, 'invalid_request_body', 'Request body is not valid JSON');
    }
    const params = parseTrafficQuery(parsed);
    if (typeof params === 'string') return reply.error(406, 'input_validation_error', params);
    const data = this.ctx.orgData.get(org);
    const population = this.populations.get(org);
    if (!data || !population) return reply.error(403, 'access_denied', `Not authorized to access org ${org}`);
    const filters = compileFilters(params, data, population);
    if (typeof filters === 'string') return reply.error(406, 'input_validation_error', filters);
    const now = Date.now();
    const query: TrafficJob = {
      id: randomUUID(),
      org,
      requestedAt: now,
      params,
      filters,
      window: population.window(Date.parse(params.start_date), Date.parse(params.end_date), now),
      polls: 0,
      downloads: 0,
      ...fateOf(jobFaults, true),
    };
    this.queries.set(query.id, query);
    this.all.push(query);
    const legacy = this.ctx.opts.legacyTrafficFlows;
    if (legacy !== undefined) {
      query.matches = Math.min(params.max_results, legacy);
      query.countedAt = now;
    } else if (query.fate.kind === 'done') {
      void population
        .count(query.window, filters, () => query.deletedAt !== undefined)
        .then((n) => {
          query.matches = n;
          query.countedAt = Date.now();
        });
    }
    return reply.json(202, this.json(query, now));
  }

  private status(q: TrafficJob, now: number): string {
    const p = phase(q, now, this.ctx.opts.jobDurationMs);
    if (p === 'pending') return 'queued';
    if (p === 'running') return q.fate.kind === 'never' ? q.fate.status : 'working';
    if (q.fate.kind === 'failed') return 'failed';
    if (q.fate.kind === 'status') return q.fate.status;
    return q.matches === undefined ? 'working' : 'completed';
  }

  /** `queued`, `working` or `completed` once update_rules was called; undefined before. */
  private rulesStatus(q: TrafficJob, now: number): string | undefined {
    if (q.rulesAt === undefined) return undefined;
    const elapsed = now - q.rulesAt;
    const duration = this.ctx.opts.jobDurationMs;
    if (elapsed >= duration) return 'completed';
    return elapsed < duration * PENDING_SHARE ? 'queued' : 'working';
  }

  private json(q: TrafficJob, now: number): Record<string, unknown> {
    const duration = this.ctx.opts.jobDurationMs;
    const status = this.status(q, now);
    const href = `/orgs/${q.org}/traffic_flows/async_queries/${q.id}`;
    const p = phase(q, now, duration);
    const updated =
      p === 'terminal'
        ? Math.max(terminatedAt(q, duration), q.countedAt ?? 0, q.rulesAt ?? 0)
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
      const matches = q.matches ?? 0;
      out.result = q.resultHref
        ? fillTemplate(q.resultHref, this.ctx.url(), q.org, q.id)
        : `${href}/download`;
      out.flows_count = Math.min(matches, q.params.max_results);
      out.matches_count = matches;
      const rules = this.rulesStatus(q, now);
      if (rules !== undefined) out.rules = { status: rules };
    } else if (status === 'failed' && q.fate.kind === 'failed') {
      out.error_message = q.fate.message;
    }
    return out;
  }

  private find(org: number, id: string): TrafficJob | undefined {
    const q = this.queries.get(id);
    if (!q || q.org !== org) return undefined;
    if (vanished(q)) {
      this.remove(q);
      return undefined;
    }
    return q;
  }

  private remove(q: TrafficJob): void {
    this.queries.delete(q.id);
    q.deletedAt = Date.now();
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

  /** `PUT {href}/update_rules`: computes draft policy decisions for a completed query. */
  updateRules(reply: Reply, org: number, id: string): Promise<void> {
    const q = this.find(org, id);
    if (!q) return queryNotFound(reply, org, id);
    const status = this.status(q, Date.now());
    if (status !== 'completed')
      return reply.error(
        406,
        'input_validation_error',
        `Async query ${id} is ${status}; update_rules needs a completed query`,
      );
    q.rulesAt ??= Date.now();
    return reply.empty(202);
  }

  download(reply: Reply, req: IncomingMessage, org: number, id: string): Promise<void> {
    const q = this.find(org, id);
    if (!q) return queryNotFound(reply, org, id);
    const now = Date.now();
    const status = this.status(q, now);
    if (status !== 'completed')
      return reply.error(404, 'not_found', `Async query ${id} has no results (status: ${status})`);
    const data = this.ctx.orgData.get(org);
    const population = this.populations.get(org);
    if (!data || !population) return reply.error(404, 'not_found', `Org ${org} not found`);
    q.downloads++;
    const gzip = acceptsGzip(req.headers['accept-encoding']);
    if (q.downloads <= this.ctx.opts.emptyDownloads) return reply.stream(200, ['[]'], gzip);
    const draft = this.rulesStatus(q, now) === 'completed';
    const limit = Math.min(q.matches ?? 0, q.params.max_results);
    if (this.ctx.opts.legacyTrafficFlows !== undefined) {
      const generator = new FlowGenerator(data, this.ctx.opts.seed, q.params);
      const render = (i: number) => {
        const flow = generator.flow(i);
        return JSON.stringify(draft ? { ...flow, draft_policy_decision: flow.policy_decision } : flow);
      };
      return reply.stream(200, jsonArrayChunks(indexes(limit), render), gzip);
    }
    return reply.stream(
      200,
      jsonArrayChunks(rows(population, q, limit, draft), (row) => row),
      gzip,
    );
  }

  delete(reply: Reply, org: number, id: string): Promise<void> {
    const q = this.find(org, id);
    if (!q) return queryNotFound(reply, org, id);
    this.remove(q);
    return reply.empty(204);
  }

  records(): TrafficQueryRecord[] {
    const now = Date.now();
    return this.all.map((q) => {
      const status = this.status(q, now);
      const rulesStatus = this.rulesStatus(q, now);
      return {
        href: `/orgs/${q.org}/traffic_flows/async_queries/${q.id}`,
        queryName: q.params.query_name,
        query: { ...q.params },
        createdAt: q.requestedAt,
        status,
        ...(status === 'completed'
          ? { flowsCount: Math.min(q.matches ?? 0, q.params.max_results), matchesCount: q.matches ?? 0 }
          : {}),
        ...(rulesStatus === undefined ? {} : { rulesStatus }),
        downloads: q.downloads,
        ...(q.deletedAt === undefined ? {} : { deletedAt: q.deletedAt }),
      };
    });
  }
}

function* indexes(count: number): Generator<number> {
  for (let i = 0; i < count; i++) yield i;
}

/** The first `limit` matching flows of the query, in the population's candidate order. */
function* rows(population: FlowPopulation, q: TrafficJob, limit: number, draft: boolean): Generator<string> {
  if (limit <= 0) return;
  const c = newCore();
  let produced = 0;
  for (const k of population.order(q.window)) {
    if (!population.candidate(q.window, k, c) || !q.filters.matches(c)) continue;
    yield population.row(c, draft);
    if (++produced >= limit) return;
  }
}
