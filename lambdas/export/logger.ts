import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';

/** What the core logic needs from a logger: Powertools' Logger, or a test spy with these methods. */
export type ExportLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** The keys every log line of an invocation carries. */
export interface InvocationKeys {
  readonly exportName?: string;
  readonly jobHref?: string;
  readonly executionName?: string;
}

/** One Logger per handler module (each handler is its own bundle); the service name comes from the environment. */
export function createLogger(): Logger {
  return new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'pce-export' });
}

/**
 * Clears the previous invocation's keys and sets this one's. The Lambda context is optional: the
 * local runner calls handlers as plain functions.
 */
export function startInvocation(logger: Logger, keys: InvocationKeys, context?: unknown): void {
  logger.resetKeys();
  if (isLambdaContext(context)) logger.addContext(context);
  appendDefinedKeys(logger, keys);
}

export function appendDefinedKeys(logger: Logger, keys: InvocationKeys): void {
  const defined = Object.fromEntries(Object.entries(keys).filter(([, v]) => v !== undefined));
  if (Object.keys(defined).length > 0) logger.appendKeys(defined);
}

function isLambdaContext(value: unknown): value is Context {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<Context>).functionName === 'string' &&
    typeof (value as Partial<Context>).awsRequestId === 'string'
  );
}

/** An error's name and message for a log line or a sentence, without its cause chain. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
