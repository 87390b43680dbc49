/**
 * Runs the synthesized state machine with the real handlers (the local engine, embedded S3) in
 * this process. Methods:
 *
 * - `single(RunRequest)`: one export, recording every state the execution entered;
 * - `batch(BatchRequest)`: `count` exports at once.
 */

import { type LocalEngine, startLocalEngine } from '../../local/engine';
import type { WorkflowEvent } from '../../local/runner';
import { type LoopModel, loopModel } from '../lib/definition-model';
import { serve } from '../lib/ipc';
import { peakRssBytes } from '../lib/process-stats';

export interface PceTarget {
  readonly url: string;
  readonly apiKey: string;
  readonly apiSecret: string;
}

export interface RunRequest {
  readonly pce: PceTarget;
  readonly input: Record<string, unknown>;
}

export interface SingleResult {
  readonly status: string;
  readonly error?: string;
  readonly cause?: string;
  readonly polls?: number;
  readonly seconds: number;
  /** Names of the states entered, in order. */
  readonly statesEntered: readonly string[];
  /** Task retries (each is a billed transition too). */
  readonly retries: number;
  /** Seconds after the start at which each Poll state was entered. */
  readonly pollTimes: readonly number[];
  /** What the synthesized definition says a successful export goes through. */
  readonly model: LoopModel;
}

export interface BatchRequest {
  readonly pce: PceTarget;
  readonly count: number;
  readonly input: Record<string, unknown>;
}

export interface BatchRun {
  readonly status: string;
  readonly error?: string;
  readonly cause?: string;
  readonly polls?: number;
  readonly bytes?: number;
  readonly seconds: number;
  readonly transitions: number;
}

export interface BatchResult {
  readonly seconds: number;
  readonly runs: readonly BatchRun[];
  readonly peakRssBytes?: number;
}

const BUCKET = 'bench-engine';
let engine: LocalEngine | undefined;

async function ready(): Promise<LocalEngine> {
  engine ??= await startLocalEngine({ s3: { embedded: true, bucket: BUCKET } });
  return engine;
}

function pceOf(target: PceTarget) {
  return { url: target.url, orgId: 1, apiKey: target.apiKey, apiSecret: target.apiSecret };
}

function outputField(output: unknown, field: string): number | undefined {
  const value = (output as Record<string, unknown> | null)?.[field];
  return typeof value === 'number' ? value : undefined;
}

async function single(request: RunRequest): Promise<SingleResult> {
  const local = await ready();
  const statesEntered: string[] = [];
  const pollTimes: number[] = [];
  let retries = 0;
  const started = performance.now();
  const outcome = await local.run({
    pce: pceOf(request.pce),
    bucket: BUCKET,
    input: request.input,
    onEvent: (event: WorkflowEvent) => {
      if (event.type === 'StateRetried') retries++;
      if (event.type !== 'StateEntered' || !event.state) return;
      statesEntered.push(event.state.name);
      if (event.state.name === 'Poll') pollTimes.push((performance.now() - started) / 1000);
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const model = loopModel(local.local.definition, statesEntered);
  if (outcome.status === 'SUCCEEDED') {
    const polls = outputField(outcome.output, 'polls');
    return { status: outcome.status, polls, seconds, statesEntered, retries, pollTimes, model };
  }
  const { error, cause } = outcome;
  return { status: outcome.status, error, cause, seconds, statesEntered, retries, pollTimes, model };
}

/**
 * The engine applies each run's environment for the run's duration and puts the previous values
 * back when it ends, so concurrent runs must not differ in any of it: every run here uses the
 * same PCE, bucket, prefix and secret (set once beforehand), and only the input differs.
 */
async function batch(request: BatchRequest): Promise<BatchResult> {
  const local = await ready();
  const pce = pceOf(request.pce);
  const secretId = 'pce-export/bench/batch';
  local.secrets.put(secretId, JSON.stringify({ apiKey: pce.apiKey, apiSecret: pce.apiSecret }));
  const env = {
    PCE_URL: pce.url,
    PCE_ORG_ID: String(pce.orgId),
    PCE_SECRET_ID: secretId,
    EXPORT_BUCKET: BUCKET,
    EXPORT_PREFIX: 'batch/',
    PCE_EXPORTS: '{}',
  };
  Object.assign(process.env, env);
  const started = performance.now();
  const runs = await Promise.all(
    Array.from({ length: request.count }, async (_, i): Promise<BatchRun> => {
      let transitions = 0;
      const t0 = performance.now();
      const outcome = await local.run({
        pce,
        bucket: BUCKET,
        prefix: 'batch/',
        env,
        input: { ...request.input, exportName: `batch-${String(i + 1).padStart(2, '0')}` },
        onEvent: (event) => {
          // Standard workflows bill every state entered and every retry of a Task.
          if (event.type === 'StateEntered' || event.type === 'StateRetried') transitions++;
        },
      });
      const seconds = (performance.now() - t0) / 1000;
      if (outcome.status === 'SUCCEEDED') {
        return {
          status: outcome.status,
          polls: outputField(outcome.output, 'polls'),
          bytes: outputField(outcome.output, 'bytes'),
          seconds,
          transitions,
        };
      }
      return { status: outcome.status, error: outcome.error, cause: outcome.cause, seconds, transitions };
    }),
  );
  return { seconds: (performance.now() - started) / 1000, runs, peakRssBytes: peakRssBytes() };
}

serve({ single, batch }, async () => {
  await engine?.close();
});
