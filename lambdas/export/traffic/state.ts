import * as z from 'zod';
import { ExportConfigError } from '../../contracts/errors';
import { JOB_HREFS } from '../../contracts/state';
import {
  type TrafficRunStart,
  type TrafficRunState,
  trafficRunSchema,
  trafficRunStartSchema,
  trafficRunStateSchema,
  type WindowState,
  windowStateSchema,
} from '../../contracts/traffic-run';
import { describeIssues } from '../input';
import type { CaughtError } from './window-end';

/*
 * The traffic run's state comes back to the Lambdas from the state machine, so each step
 * validates it like any other input, and the hrefs in it must belong to the configured org.
 */

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new ExportConfigError(`Invalid ${what}: ${describeIssues(parsed.error, 'state')}`);
  return parsed.data;
}

function checkKind(request: { readonly kind?: string; readonly traffic?: unknown }, what: string): void {
  if (request.kind !== 'traffic' || request.traffic === undefined) {
    throw new ExportConfigError(`Invalid ${what}: state.export is not a traffic export with its query`);
  }
}

export function parseRunStart(value: unknown): TrafficRunStart {
  const start = parse(trafficRunStartSchema, value, 'traffic run start');
  checkKind(start.export, 'traffic run start');
  return start;
}

export function parseRunState(value: unknown): TrafficRunState {
  const state = parse(trafficRunStateSchema, value, 'traffic run state');
  checkKind(state.run.export, 'traffic run state');
  return state;
}

export function parseWindowState(value: unknown, orgId: number): WindowState {
  const state = parse(windowStateSchema, value, 'traffic window state');
  checkKind(state.run.export, 'traffic window state');
  const { job } = state;
  if (job === undefined) return state;
  const hrefs = JOB_HREFS.traffic;
  for (const [field, href, pattern] of [
    ['state.job.href', job.href, hrefs.job],
    ['state.job.resultHref', job.resultHref, hrefs.result],
  ] as const) {
    if (href === undefined) continue;
    const org = Number(/^\/orgs\/([0-9]+)\//.exec(href)?.[1]);
    if (!pattern.test(href) || org !== orgId) {
      throw new ExportConfigError(
        `Invalid traffic window state: ${field} is not a traffic query href of org ${orgId}`,
      );
    }
  }
  return state;
}

const caughtSchema = z.object({ Error: z.unknown().optional(), Cause: z.unknown().optional() });

/** What ended a failed run: the split's failure, or an error a state caught. */
export function parseAbortEvent(value: unknown): {
  run?: z.output<typeof trafficRunSchema>;
  failure?: CaughtError;
  caught?: CaughtError;
} {
  const state = (value ?? {}) as Record<string, unknown>;
  const run = trafficRunSchema.safeParse(state.run);
  const failure = caughtSchema.safeParse(state.failure);
  const caught = caughtSchema.safeParse(state.caught);
  return {
    ...(run.success ? { run: run.data } : {}),
    ...(failure.success && state.failure !== undefined ? { failure: failure.data } : {}),
    ...(caught.success && state.caught !== undefined ? { caught: caught.data } : {}),
  };
}

/** The error a window's step caught, from its state (`$.caught`). */
export function caughtOf(value: unknown): CaughtError {
  const caught = caughtSchema.safeParse((value as { caught?: unknown } | null)?.caught);
  return caught.success ? caught.data : {};
}
