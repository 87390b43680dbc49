/**
 * The life of an async job or traffic query: pending for the first fifth of the job duration,
 * then running, then terminal with the fate its job faults gave it at submit time.
 */
import type { JobFault } from './fault-kinds';

/** Share of the job duration spent `pending` (traffic: `queued`). */
export const PENDING_SHARE = 0.2;

/** What a job turns into when its time is up. */
type Fate =
  | { readonly kind: 'done' }
  | { readonly kind: 'failed'; readonly message: string; readonly atMs?: number }
  | { readonly kind: 'status'; readonly status: string; readonly atMs?: number }
  | { readonly kind: 'never'; readonly status: string };

/** How a collection job's documents differ from the plain ones (odd and hostile job faults). */
interface JobLooks {
  /** Statuses before the end, sharing the job's time (`job-phases`). */
  readonly phases?: readonly string[];
  /** Every status in this letter case (`status-case`). */
  readonly statusCase?: 'upper' | 'title';
  /** Extra fields in every document (`extra-fields`). */
  readonly extraFields?: Readonly<Record<string, unknown>>;
  /** The `href` its documents report (`job-href`), a template. */
  readonly jobHref?: string;
}

export interface JobCommon extends JobLooks {
  readonly id: string;
  readonly org: number;
  readonly requestedAt: number;
  readonly fate: Fate;
  readonly vanishAfterPolls?: number;
  readonly resultHref?: string;
  polls: number;
}

/** What a newer PCE might add to a job document. */
const EXTRA_FIELDS = {
  progress: { percent: 42, rows_processed: 1000 },
  priority: 'normal',
  node: 'pce-core1.corp.example.com',
  links: [{ rel: 'self', href: 'https://pce.corp.example.com/api/v2' }],
};

type Phase = 'pending' | 'running' | 'terminal';

/** The fate, vanishing and result href that the job faults hitting a submit give its job. */
export function fateOf(
  jobFaults: readonly JobFault[],
  traffic: boolean,
): Pick<JobCommon, 'fate' | 'vanishAfterPolls' | 'resultHref' | keyof JobLooks> {
  let fate: Fate = { kind: 'done' };
  let vanishAfterPolls: number | undefined;
  let resultHref: string | undefined;
  const looks: { -readonly [K in keyof JobLooks]: JobLooks[K] } = {};
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
    else if (f.kind === 'result-href') resultHref = f.href;
    else if (f.kind === 'job-phases') looks.phases = f.phases ?? ['pending', 'running', 'pending', 'running'];
    else if (f.kind === 'status-case') looks.statusCase = f.style ?? 'upper';
    else if (f.kind === 'extra-fields') looks.extraFields = f.fields ?? EXTRA_FIELDS;
    else looks.jobHref = f.href;
  }
  return {
    ...looks,
    fate,
    ...(vanishAfterPolls === undefined ? {} : { vanishAfterPolls }),
    ...(resultHref === undefined ? {} : { resultHref }),
  };
}

export function phase(job: JobCommon, now: number, durationMs: number): Phase {
  const elapsed = now - job.requestedAt;
  const pendingUntil = durationMs * PENDING_SHARE;
  if (job.fate.kind === 'never') return elapsed < pendingUntil ? 'pending' : 'running';
  const end = 'atMs' in job.fate && job.fate.atMs !== undefined ? job.fate.atMs : durationMs;
  if (elapsed >= end) return 'terminal';
  return elapsed < pendingUntil ? 'pending' : 'running';
}

/** The status of a job that has not terminated: a `job-phases` job's current phase, or `fallback`. */
export function activeStatus(job: JobCommon, now: number, durationMs: number, fallback: string): string {
  const phases = job.phases;
  if (!phases || phases.length === 0) return fallback;
  const end = 'atMs' in job.fate && job.fate.atMs !== undefined ? job.fate.atMs : durationMs;
  const share = end / phases.length;
  const index = share > 0 ? Math.min(phases.length - 1, Math.floor((now - job.requestedAt) / share)) : 0;
  return phases[index] ?? fallback;
}

/** A status in the letter case a `status-case` fault asks for. */
export function cased(status: string, style: JobLooks['statusCase']): string {
  if (style === 'upper') return status.toUpperCase();
  if (style === 'title') return status.charAt(0).toUpperCase() + status.slice(1);
  return status;
}

export function terminatedAt(job: JobCommon, durationMs: number): number {
  const end = 'atMs' in job.fate && job.fate.atMs !== undefined ? job.fate.atMs : durationMs;
  return job.requestedAt + end;
}

/** A job with a `job-vanishes` fault is gone once it has been polled `afterPolls` times. */
export function vanished(job: JobCommon): boolean {
  return job.vanishAfterPolls !== undefined && job.polls >= job.vanishAfterPolls;
}

/** A `location`/`result-href` fault template with `{url}`, `{org}` and `{id}` filled in. */
export function fillTemplate(template: string, url: string, org: number, id: string): string {
  return template.replaceAll('{url}', url).replaceAll('{org}', String(org)).replaceAll('{id}', id);
}
