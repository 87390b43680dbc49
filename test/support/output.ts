import { vi } from 'vitest';

/**
 * The lines the process writes to stdout and stderr from now on (Powertools writes INFO and
 * WARN to stdout, ERROR to stderr), kept in the returned array instead of being printed.
 */
export function capturedLines(): string[] {
  const lines: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    });
  }
  return lines;
}
