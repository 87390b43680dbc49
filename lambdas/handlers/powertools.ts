import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import middy, { type MiddlewareObj, type Request } from '@middy/core';
import type { Context } from 'aws-lambda';

/*
 * The one place that sets up Powertools for the handlers, as Powertools' examples/app does: a
 * logger, metrics and a tracer shared by every handler module, and `lambdaHandler()`, which wraps
 * a plain `(event, context) => result` function with them once. The local engine calls the
 * wrapped handlers as plain functions with a Lambda-like context (or none); nothing here depends
 * on running in AWS.
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

/** Adds the keys that are defined to every further log line of this invocation. */
export function appendKeys(keys: InvocationKeys): void {
  const defined = Object.fromEntries(Object.entries(keys).filter(([, value]) => value !== undefined));
  if (Object.keys(defined).length > 0) logger.appendKeys(defined);
}

/**
 * X-Ray tracing through Powertools' Tracer, loaded on the first invocation that X-Ray traces:
 * the X-Ray SDK is large, and an untraced run (the local engine, tracing switched off) never
 * loads it, nor does any handler's initialisation.
 */
function tracing(): MiddlewareObj {
  let loaded: Promise<MiddlewareObj> | undefined;
  const traced = () =>
    process.env.AWS_XRAY_DAEMON_ADDRESS !== undefined && process.env.POWERTOOLS_TRACE_ENABLED !== 'false';
  const middleware = () => {
    loaded ??= Promise.all([
      import('@aws-lambda-powertools/tracer'),
      import('@aws-lambda-powertools/tracer/middleware'),
    ]).then(([{ Tracer }, { captureLambdaHandler }]) =>
      captureLambdaHandler(new Tracer({ serviceName }), { captureResponse: false }),
    );
    return loaded;
  };
  const run = (phase: 'before' | 'after' | 'onError') => async (request: Request) => {
    if (!traced()) return;
    await (await middleware())[phase]?.(request);
  };
  return { before: run('before'), after: run('after'), onError: run('onError') };
}

/**
 * Publishes the metrics an invocation added, if it added any (Powertools' own middleware would
 * warn about an empty set on every invocation).
 */
function publishMetrics(): MiddlewareObj {
  const publish = () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { after: publish, onError: publish };
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
  return (event, context) => wrapped(event, (context ?? {}) as Context);
}
