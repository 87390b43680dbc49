import type { Logger } from '@aws-lambda-powertools/logger';

/** What the core logic needs from a logger: Powertools' Logger, or a test spy with these methods. */
export type ExportLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** An error's name and message for a log line or a sentence, without its cause chain. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
