/**
 * One export through the local engine (the synthesized definition, its child executions and the
 * real handlers, the embedded S3) in this process, with the functions named in `isolate` run in
 * processes of their own (bench/workers/lambda-host.ts, one invocation per process at a time, as
 * Lambda runs them), so that the Fetch function's CPU and peak RSS are its own. Method
 * `run(ExportRequest)` → ExportResult; `flows(FlowsRequest)` reads the run's window objects back
 * and checks them against the simulator's population.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { TrafficManifest } from '../../lambdas/export/traffic/manifest';
import { watermarkKey } from '../../lambdas/export/watermark';
import { loadLocalDefinition } from '../../local/definition-cache';
import { type LocalEngine, startLocalEngine } from '../../local/engine';
import { type LambdaHandler, loadHandlers } from '../../local/lambda';
import type { SimulatorOptions } from '../../simulator/types';
import { type Completeness, completeness, keyOf } from '../lib/flow-check';
import { type Child, serve, spawnChild } from '../lib/ipc';
import { peakRssBytes } from '../lib/process-stats';
import type { InvokeReply } from './lambda-host';

interface ExportRequest {
  readonly pce: { readonly url: string; readonly apiKey: string; readonly apiSecret: string };
  readonly input: Record<string, unknown>;
  readonly exports?: Readonly<Record<string, unknown>>;
  /** Written before the run: the export's watermark, as a complete run ending at `end` leaves it. */
  readonly watermark?: { readonly exportName: string; readonly end: string };
  /** Handler names run in processes of their own (e.g. `traffic-fetch`, `fetch`). */
  readonly isolate: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Copy every object the run wrote into this directory, laid out by key (as `--out DIR` does). */
  readonly copyTo?: string;
}

/** Invocations of one function: count, wall seconds, GB-seconds at its configured memory. */
interface FunctionUse {
  readonly memoryMb: number;
  readonly invocations: number;
  readonly seconds: number;
  readonly gbSeconds: number;
  /** Isolated functions only: CPU seconds and the largest peak RSS of its processes. */
  readonly cpuSeconds?: number;
  readonly peakRssBytes?: number;
  readonly processes?: number;
}

export interface ExportResult {
  readonly status: string;
  readonly error?: string;
  readonly cause?: string;
  readonly output?: Record<string, unknown>;
  readonly seconds: number;
  /** Billed state transitions (states entered and Task retries), of the parent and of its children. */
  readonly transitions: { readonly parent: number; readonly children: number };
  readonly childExecutions: number;
  readonly functions: Readonly<Record<string, FunctionUse>>;
  /** Every object the run left in the bucket, and their bytes. */
  readonly objects: number;
  readonly storedBytes: number;
  readonly files: readonly { readonly key: string; readonly bytes: number }[];
  /** The engine process (definition, S3 server, the functions not isolated). */
  readonly enginePeakRssBytes?: number;
}

interface FlowsRequest {
  readonly manifestKey: string;
  readonly simulator: SimulatorOptions;
  readonly range: { readonly start: string; readonly end: string };
  /** An incremental run that continues another: flows first detected before the range are that run's. */
  readonly earlierRunOwnsBefore: boolean;
}

const BUCKET = 'bench-export';
let engine: LocalEngine | undefined;
let s3: S3Client | undefined;
const hosts: Child[] = [];

class FunctionMeter {
  invocations = 0;
  seconds = 0;
  cpuSeconds = 0;
  peakRssBytes = 0;
  constructor(readonly memoryMb: number) {}
  use(isolated: boolean): FunctionUse {
    const use = {
      memoryMb: this.memoryMb,
      invocations: this.invocations,
      seconds: this.seconds,
      gbSeconds: (this.seconds * this.memoryMb) / 1024,
    };
    return isolated ? { ...use, cpuSeconds: this.cpuSeconds, peakRssBytes: this.peakRssBytes } : use;
  }
}

async function newHost(): Promise<Child> {
  const host = await spawnChild(new URL('./lambda-host.ts', import.meta.url));
  hosts.push(host);
  return host;
}

/** The function in a pool of host processes: a free one, or a new one when all are busy. */
function isolated(module: string, meter: FunctionMeter, idle: Child[]): LambdaHandler {
  return async (event, context) => {
    const host = idle.pop() ?? (await newHost());
    try {
      const c = (context ?? {}) as Record<string, unknown> & { getRemainingTimeInMillis?: () => number };
      const { getRemainingTimeInMillis, ...plain } = c;
      const env = Object.fromEntries(
        Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
      );
      const reply = await host.call<InvokeReply>('invoke', {
        module,
        event,
        context: { ...plain, remainingMs: getRemainingTimeInMillis?.() ?? 900_000 },
        env,
      });
      meter.invocations++;
      meter.seconds += reply.seconds;
      meter.cpuSeconds += reply.cpuSeconds;
      meter.peakRssBytes = Math.max(meter.peakRssBytes, reply.peakRssBytes);
      return reply.result;
    } finally {
      idle.push(host);
    }
  };
}

function timed(handler: LambdaHandler, meter: FunctionMeter): LambdaHandler {
  return async (event, context) => {
    const started = performance.now();
    try {
      return await handler(event, context);
    } finally {
      meter.invocations++;
      meter.seconds += (performance.now() - started) / 1000;
    }
  };
}

async function listAll(client: S3Client): Promise<{ key: string; bytes: number }[]> {
  const files: { key: string; bytes: number }[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }));
    for (const o of page.Contents ?? []) files.push({ key: o.Key ?? '', bytes: o.Size ?? 0 });
    token = page.NextContinuationToken;
  } while (token);
  return files;
}

async function getObject(client: S3Client, key: string): Promise<Buffer> {
  const reply = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from((await reply.Body?.transformToByteArray()) ?? []);
}

async function run(request: ExportRequest): Promise<ExportResult> {
  if (engine) throw new Error('one run per engine process');
  const local = await loadLocalDefinition();
  const modules = Object.fromEntries(Object.values(local.functions).map((fn) => [fn.handler, fn]));
  // Imported on first use, once the engine has set the environment (endpoints, log level) up.
  let loaded: Promise<Record<string, LambdaHandler>> | undefined;
  const real =
    (name: string): LambdaHandler =>
    async (event, context) => {
      loaded ??= loadHandlers(
        Object.fromEntries(Object.values(modules).map((fn) => [fn.handler, fn.module])),
      );
      const handler = (await loaded)[name];
      if (!handler) throw new Error(`no handler ${name}`);
      return handler(event, context);
    };
  const meters = new Map(Object.values(modules).map((fn) => [fn.handler, new FunctionMeter(fn.memorySize)]));
  const handlers: Record<string, LambdaHandler> = {};
  for (const [name, fn] of Object.entries(modules)) {
    const meter = meters.get(name) as FunctionMeter;
    handlers[name] = request.isolate.includes(name)
      ? isolated(fn.module, meter, [])
      : timed(real(name), meter);
  }
  engine = await startLocalEngine({ s3: { embedded: true, bucket: BUCKET }, handlers });
  s3 = new S3Client({
    endpoint: engine.s3?.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  if (request.watermark) {
    const { exportName, end } = request.watermark;
    const body = {
      exportName,
      end,
      executionName: 'bench-earlier-run',
      manifestKey: `${exportName}/_manifests/earlier.manifest.json`,
      completedAt: end,
      tool: 'pce-export bench',
    };
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: watermarkKey('', exportName), Body: JSON.stringify(body) }),
    );
  }
  const before = new Set((await listAll(s3)).map((f) => f.key));
  const transitions = { parent: 0, children: 0 };
  const children = new Set<string>();
  const started = performance.now();
  const outcome = await engine.run({
    pce: { url: request.pce.url, orgId: 1, apiKey: request.pce.apiKey, apiSecret: request.pce.apiSecret },
    bucket: BUCKET,
    input: request.input,
    ...(request.exports ? { exports: request.exports } : {}),
    ...(request.env ? { env: request.env } : {}),
    onEvent: (event) => {
      // Standard workflows bill every state entered and every retry of a Task.
      if (event.type !== 'StateEntered' && event.type !== 'StateRetried') return;
      if (event.execution) {
        transitions.children++;
        children.add(event.execution.arn);
      } else transitions.parent++;
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const enginePeakRssBytes = peakRssBytes();
  const files = (await listAll(s3)).filter((f) => !before.has(f.key));
  if (request.copyTo) {
    for (const file of files) {
      const path = join(request.copyTo, file.key);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, await getObject(s3, file.key));
    }
  }
  const functions = Object.fromEntries(
    [...meters].map(([name, meter]) => [name, meter.use(request.isolate.includes(name))]),
  );
  const common = {
    seconds,
    transitions,
    childExecutions: children.size,
    functions,
    objects: files.length,
    storedBytes: files.reduce((a, f) => a + f.bytes, 0),
    files,
    ...(enginePeakRssBytes === undefined ? {} : { enginePeakRssBytes }),
  };
  if (outcome.status === 'SUCCEEDED') {
    return { status: outcome.status, output: outcome.output as Record<string, unknown>, ...common };
  }
  return { status: outcome.status, error: outcome.error, cause: outcome.cause, ...common };
}

/** The flows of an ndjson traffic run's window objects, by dedupe key, against the population. */
async function flows(request: FlowsRequest): Promise<Completeness> {
  if (!s3) throw new Error('no run yet');
  const manifest = JSON.parse((await getObject(s3, request.manifestKey)).toString('utf8')) as TrafficManifest;
  if (manifest.format !== 'ndjson')
    throw new Error(`flows are read back from ndjson, not ${manifest.format}`);
  const stored = new Map<string, number>();
  for (const window of manifest.windows) {
    const bytes = await getObject(s3, window.key);
    const text = (manifest.gzip ? gunzipSync(bytes) : bytes).toString('utf8');
    let rows = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      rows++;
      const key = keyOf(JSON.parse(line));
      stored.set(key, (stored.get(key) ?? 0) + 1);
    }
    if (rows !== window.objectCount) {
      throw new Error(`window ${window.id} holds ${rows} flows, its manifest says ${window.objectCount}`);
    }
  }
  return completeness(request.simulator, request.range, stored, request.earlierRunOwnsBefore);
}

serve({ run, flows }, async () => {
  await Promise.all(hosts.map((h) => h.close()));
  await engine?.close();
});
