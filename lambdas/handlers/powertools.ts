import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe } from 'node:diagnostics_channel';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import middy, { type MiddlewareObj, type Request } from '@middy/core';
import type { Context } from 'aws-lambda';

/*
 * The one place that sets up Powertools for the handlers, as Powertools' examples/app does: a
 * logger, metrics and a tracer shared by every handler module, and `lambdaHandler()`, which wraps
 * a plain `(event, context) => result` function with them once. The local engine calls the
 * wrapped handlers as plain functions with a Lambda-like context (or none); nothing here depends
 * on running in AWS.
 *
 * Metrics (EMF, namespace `pce-export`) carry the dimensions `export` and `pce`: every
 * invocation that talks to the PCE publishes `PceRequests` and `PceRetries`, every failed one
 * `Errors` with the error's name as a further dimension (`error`), and Fetch the export's
 * `Bytes`, `Objects`, `Polls` and `Duration`.
 */

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'pce-export';

export const logger = new Logger({ serviceName });
/** EMF metrics: what a handler adds is published when its invocation ends. */
const metrics = new Metrics({ namespace: 'pce-export', serviceName, logger });

/** The keys every log line of an invocation carries, once they are known. */
export interface InvocationKeys {
  readonly exportName?: string;
  readonly jobHref?: string;
  readonly executionName?: string;
  readonly snapshot?: string;
}

/** What one invocation has done so far, for its metrics. */
interface Invocation {
  exportName?: string;
  pceRequests: number;
  pceRetries: number;
  /** The last outcome of each request (method and URL): a status, or `error`. */
  readonly outcomes: Map<string, number | 'error'>;
}

const invocations = new AsyncLocalStorage<Invocation>();

/*
 * PCE requests are counted from undici's diagnostics channels (the AWS SDK does not use undici):
 * a request is a retry when the one before it to the same method and URL, in the same
 * invocation, was answered 429 or 5xx or failed in transport.
 */
interface UndiciRequest {
  readonly method: string;
  readonly origin: string;
  readonly path: string;
}
const requestKey = (request: UndiciRequest) => `${request.method} ${request.origin}${request.path}`;
subscribe('undici:request:create', (message) => {
  const invocation = invocations.getStore();
  const { request } = message as { request: UndiciRequest };
  if (!invocation || request.method === 'CONNECT') return;
  invocation.pceRequests++;
  const last = invocation.outcomes.get(requestKey(request));
  if (last === 'error' || (typeof last === 'number' && (last === 429 || last >= 500)))
    invocation.pceRetries++;
});
subscribe('undici:request:headers', (message) => {
  const { request, response } = message as { request: UndiciRequest; response: { statusCode: number } };
  invocations.getStore()?.outcomes.set(requestKey(request), response.statusCode);
});
subscribe('undici:request:error', (message) => {
  const { request } = message as { request: UndiciRequest };
  invocations.getStore()?.outcomes.set(requestKey(request), 'error');
});

/** Adds the keys that are defined to every further log line of this invocation. */
export function appendKeys(keys: InvocationKeys): void {
  const defined = Object.fromEntries(Object.entries(keys).filter(([, value]) => value !== undefined));
  if (Object.keys(defined).length > 0) logger.appendKeys(defined);
  const invocation = invocations.getStore();
  if (invocation && keys.exportName !== undefined) invocation.exportName = keys.exportName;
  if (keys.exportName !== undefined) tracer?.putAnnotation('export', keys.exportName);
}

/** What Fetch reports about a finished export. */
export interface ExportFigures {
  readonly bytes: number;
  readonly objectCount?: number;
  readonly polls: number;
  /** From the execution's start to the object's completion. */
  readonly durationSeconds: number;
}

/** Adds an export's figures to this invocation's metrics. */
export function recordExport(figures: ExportFigures): void {
  metrics.addMetric('Bytes', MetricUnit.Bytes, figures.bytes);
  if (figures.objectCount !== undefined) metrics.addMetric('Objects', MetricUnit.Count, figures.objectCount);
  metrics.addMetric('Polls', MetricUnit.Count, figures.polls);
  metrics.addMetric('Duration', MetricUnit.Seconds, Math.max(0, figures.durationSeconds));
}

/** The PCE this function serves, as a metric dimension: its name, or `default` for an unnamed one. */
function pceDimension(): string {
  return process.env.PCE_NAME?.trim() || 'default';
}

/**
 * Publishes the invocation's metrics with its dimensions, if it has any (Powertools' own
 * middleware would warn about an empty set on every invocation).
 */
function publishMetrics(): MiddlewareObj {
  const publish = (request: Request, failed: boolean) => {
    const invocation = invocations.getStore();
    if (invocation && invocation.pceRequests > 0) {
      metrics.addMetric('PceRequests', MetricUnit.Count, invocation.pceRequests);
      metrics.addMetric('PceRetries', MetricUnit.Count, invocation.pceRetries);
    }
    const dimensions = { export: invocation?.exportName ?? 'unknown', pce: pceDimension() };
    if (failed) {
      // A set of its own: the error name is a dimension of Errors only.
      const error = request.error instanceof Error ? request.error.name : 'Error';
      const single = metrics.singleMetric();
      single.addDimensions({ ...dimensions, error });
      single.addMetric('Errors', MetricUnit.Count, 1);
    }
    if (!metrics.hasStoredMetrics()) return;
    metrics.addDimensions(dimensions);
    metrics.publishStoredMetrics();
  };
  return { after: (request) => publish(request, false), onError: (request) => publish(request, true) };
}

/*
 * X-Ray tracing through Powertools' Tracer, loaded on the first invocation that X-Ray traces:
 * the X-Ray SDK is large, and an untraced run (the local engine, tracing switched off) never
 * loads it, nor does any handler's initialisation. Once loaded, PCE requests get subsegments
 * from the Tracer's undici instrumentation (named by the PCE's host), and the AWS SDK clients
 * handed to `traceClient` (S3, Secrets Manager) one per call.
 */
let tracer: Tracer | undefined;
const clients = new Set<object>();
const captured = new WeakSet<object>();

function capture(client: object): void {
  if (!tracer || captured.has(client)) return;
  captured.add(client);
  tracer.captureAWSv3Client(client);
}

/** Registers an AWS SDK client for tracing: it is instrumented once the Tracer is loaded. */
export function traceClient<T extends object>(client: T): T {
  clients.add(client);
  capture(client);
  return client;
}

function tracing(): MiddlewareObj {
  let loaded: Promise<MiddlewareObj> | undefined;
  const traced = () =>
    process.env.AWS_XRAY_DAEMON_ADDRESS !== undefined && process.env.POWERTOOLS_TRACE_ENABLED !== 'false';
  const middleware = () => {
    loaded ??= Promise.all([
      import('@aws-lambda-powertools/tracer'),
      import('@aws-lambda-powertools/tracer/middleware'),
    ]).then(([{ Tracer }, { captureLambdaHandler }]) => {
      tracer = new Tracer({ serviceName });
      for (const client of clients) capture(client);
      return captureLambdaHandler(tracer, { captureResponse: false });
    });
    return loaded;
  };
  const run = (phase: 'before' | 'after' | 'onError') => async (request: Request) => {
    if (!traced()) return;
    await (await middleware())[phase]?.(request);
    if (phase === 'before') tracer?.putAnnotation('pce', pceDimension());
  };
  return { before: run('before'), after: run('after'), onError: run('onError') };
}

/** Logs the failure with the invocation's keys, then lets the error reach the state machine as it is. */
function logFailure(step: string): MiddlewareObj {
  return {
    onError: (request) => {
      logger.error(`${step} failed`, request.error as Error);
    },
  };
}

/**
 * Wraps a handler: Lambda context and a fresh set of keys on every log line, metrics published,
 * tracing when X-Ray traces, and the failure logged. The Lambda service's own timeout stays in charge (no early timeout of middy's).
 */
export function lambdaHandler<Event, Result>(
  step: string,
  handler: (event: Event, context: Context) => Promise<Result>,
): (event: Event, context?: unknown) => Promise<Result> {
  const wrapped = middy(handler, { timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(publishMetrics())
    .use(tracing())
    .use(logFailure(step));
  return (event, context) =>
    invocations.run({ pceRequests: 0, pceRetries: 0, outcomes: new Map() }, () =>
      wrapped(event, (context ?? {}) as Context),
    );
}
