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

export interface JobCommon {
  readonly id: string;
  readonly org: number;
  readonly requestedAt: number;
  readonly fate: Fate;
  readonly vanishAfterPolls?: number;
  readonly resultHref?: string;
  polls: number;
}

type Phase = 'pending' | 'running' | 'terminal';

/** The fate, vanishing and result href that the job faults hitting a submit give its job. */
export function fateOf(
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

export function phase(job: JobCommon, now: number, durationMs: number): Phase {
  const elapsed = now - job.requestedAt;
  const pendingUntil = durationMs * PENDING_SHARE;
  if (job.fate.kind === 'never') return elapsed < pendingUntil ? 'pending' : 'running';
  const end = 'atMs' in job.fate && job.fate.atMs !== undefined ? job.fate.atMs : durationMs;
  if (elapsed >= end) return 'terminal';
  return elapsed < pendingUntil ? 'pending' : 'running';
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
