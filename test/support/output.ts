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

/** The lines that hold a JSON object, parsed; the others are left out. */
export function jsonLines(lines: readonly string[]): Record<string, unknown>[] {
  return lines.flatMap((line) => {
    try {
      const parsed: unknown = JSON.parse(line);
      return typeof parsed === 'object' && parsed !== null ? [parsed as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}
