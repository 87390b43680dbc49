import type { z } from 'zod';
import { ExportConfigError } from '../contracts/errors';
import { type ExportInput, type ExportKind, exportInputSchema } from '../contracts/input';
import type { ExportRequest } from '../contracts/state';
import { KIND_FIELDS, kindOf, ownerOf } from './kinds';

export const DEFAULT_MAX_WAIT_SECONDS = 3_600;
const DEFAULT_FORMAT = 'ndjson' as const;
const DEFAULT_GZIP = true;

/** Describes zod issues as one sentence naming each field. */
export function describeIssues(error: z.ZodError, root = 'input'): string {
  return error.issues
    .map((issue) => {
      const field = [root, ...issue.path.map(String)].join('.');
      if (issue.code === 'unrecognized_keys') return `${field} has unknown field(s) ${issue.keys.join(', ')}`;
      if (issue.code === 'invalid_key')
        return `${field} is not a valid key: ${issue.issues.map((i) => i.message).join(', ')}`;
      return `${field} ${issue.message}`;
    })
    .join('; ');
}

/** Parses untrusted input, throwing ExportConfigError with a sentence naming the fields. */
export function parseExportInput(value: unknown, root = 'input'): z.output<typeof exportInputSchema> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ExportConfigError(`${root} must be a JSON object`);
  }
  const parsed = exportInputSchema.safeParse(value);
  if (!parsed.success) throw new ExportConfigError(`Invalid ${root}: ${describeIssues(parsed.error, root)}`);
  return parsed.data;
}

/**
 * Fields that do not go with the export's kind, each with what is wrong: a traffic export takes
 * its query in `traffic`, not `path`/`query`; a collection export takes no `traffic`.
 */
export function kindIssues(input: {
  readonly kind?: ExportKind;
  readonly path?: unknown;
  readonly query?: unknown;
  readonly traffic?: unknown;
  readonly events?: unknown;
  readonly changes?: unknown;
}): { field: 'path' | 'query' | 'traffic' | 'events' | 'changes'; message: string }[] {
  const kind = kindOf(input);
  return KIND_FIELDS.filter((field) => input[field] !== undefined && !kind.fields.includes(field)).map(
    (field) => ({
      field,
      message:
        kind.notHere !== undefined && (field === 'path' || field === 'query')
          ? kind.notHere
          : ownerOf(field).onlyHere,
    }),
  );
}

/**
 * Turns execution input into a complete export request. A named export that is configured
 * supplies the defaults; fields in the input override them (`traffic` as a whole). A traffic
 * query's relative range is resolved against `now` (Submit passes the execution's start time).
 */
export function resolveExportRequest(
  rawInput: unknown,
  configured: Readonly<Record<string, ExportInput>> = {},
  options: { readonly now?: Date } = {},
): ExportRequest {
  const input = parseExportInput(rawInput);
  const base = input.exportName !== undefined ? configured[input.exportName] : undefined;
  const merged = { ...(base ? parseExportInput(base, `export ${input.exportName}`) : {}), ...input };
  const issues = kindIssues(merged);
  if (issues.length > 0) {
    const from = base ? ` (with export "${input.exportName}" as configured)` : '';
    throw new ExportConfigError(
      `Invalid input${from}: ${issues.map((issue) => `input.${issue.field} ${issue.message}`).join('; ')}`,
    );
  }
  return {
    ...kindOf(merged).resolve(merged, {
      now: options.now ?? new Date(),
      configured: Object.keys(configured),
    }),
    format: merged.format ?? DEFAULT_FORMAT,
    gzip: merged.gzip ?? DEFAULT_GZIP,
    maxWaitSeconds: merged.maxWaitSeconds ?? DEFAULT_MAX_WAIT_SECONDS,
  };
}
