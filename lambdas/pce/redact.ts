import { type ExportError, isExportError } from '../contracts/errors';
import { cleanText } from './http';

/**
 * Keeps credentials out of everything the client throws. Messages and stacks are scrubbed; a
 * cause is kept as it is when it is a plain error (primitive fields only, no credential in its
 * text) and otherwise replaced by a scrubbed copy (name, message, code, stack), so nothing
 * that holds request state (a socket, the request's headers) hangs off the error.
 */
export class Redactor {
  private readonly secrets: string[];

  constructor(secrets: string[]) {
    // Very short values would blank out ordinary words without protecting anything.
    this.secrets = [...new Set(secrets)]
      .filter((secret) => secret.length >= 4)
      .sort((a, b) => b.length - a.length);
  }

  text(value: string): string {
    let text = value;
    for (const secret of this.secrets) text = text.split(secret).join('[redacted]');
    return text;
  }

  private contains(value: string): boolean {
    return this.secrets.some((secret) => value.includes(secret));
  }

  /** Scrubs whatever an operation threw; ExportErrors keep their class. */
  error(error: unknown): Error {
    return isExportError(error) ? this.exportError(error) : (this.cause(error) as Error);
  }

  exportError<E extends ExportError>(error: E): E {
    error.message = this.text(error.message);
    if (error.stack) error.stack = this.text(error.stack);
    if (error.cause !== undefined) {
      Object.defineProperty(error, 'cause', {
        value: this.cause(error.cause),
        writable: true,
        configurable: true,
        enumerable: false,
      });
    }
    return error;
  }

  cause(value: unknown, depth = 0): unknown {
    if (!(value instanceof Error)) {
      return new Error(this.text(cleanText(String(value), 500)));
    }
    if (this.isClean(value, depth)) return value;
    const copy = new Error(this.text(value.message));
    copy.name = value.name;
    for (const field of ['code', 'errno', 'syscall'] as const) {
      const fieldValue = (value as unknown as Record<string, unknown>)[field];
      if (typeof fieldValue === 'string' || typeof fieldValue === 'number') {
        (copy as unknown as Record<string, unknown>)[field] = fieldValue;
      }
    }
    copy.stack = this.text(value.stack ?? `${copy.name}: ${copy.message}`);
    if (value.cause !== undefined && depth < 4) {
      Object.defineProperty(copy, 'cause', {
        value: this.cause(value.cause, depth + 1),
        writable: true,
        configurable: true,
        enumerable: false,
      });
    }
    return copy;
  }

  private isClean(error: Error, depth: number): boolean {
    if (this.contains(error.message) || this.contains(error.stack ?? '')) return false;
    for (const key of Object.getOwnPropertyNames(error)) {
      if (key === 'stack' || key === 'message' || key === 'cause') continue;
      const value = (error as unknown as Record<string, unknown>)[key];
      if (value !== null && (typeof value === 'object' || typeof value === 'function')) return false;
      if (typeof value === 'string' && this.contains(value)) return false;
    }
    if (error.cause === undefined) return true;
    return depth < 4 && error.cause instanceof Error && this.isClean(error.cause, depth + 1);
  }
}
