import { z } from 'zod';
import { ExportConfigError } from '../pce/errors';
import type { ExportRequest } from './state';
import { resolveTrafficQuery, trafficInputSchema } from './traffic-query';

/** Longest a job may be waited for; keeps the poll loop far below the 25,000-event history limit. */
export const MAX_WAIT_SECONDS_LIMIT = 86_400;
export const DEFAULT_MAX_WAIT_SECONDS = 3_600;
export const DEFAULT_FORMAT = 'ndjson' as const;
export const DEFAULT_GZIP = true;
export const EXPORT_KINDS = ['collection', 'traffic'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];
/** The API path a traffic export's object metadata and manifest name. */
export const TRAFFIC_PATH = '/traffic_flows/async_queries';
export const DEFAULT_TRAFFIC_EXPORT_NAME = 'traffic';

const EXPORT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** Org-relative collection path: `/labels`, `/sec_policy/draft/rule_sets`. */
export const COLLECTION_PATH = /^(\/[a-z0-9_]+)+$/;
export const QUERY_KEY = /^[A-Za-z0-9_.[\]]{1,64}$/;
// No control characters, no `?`/`#` (they would change the request's shape), bounded length.
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
export const QUERY_VALUE = /^[^\u0000-\u001f\u007f?#]{0,1024}$/;

const queryValue = z
  .union([z.string(), z.number(), z.boolean()])
  .transform((v) => String(v))
  .refine((v) => QUERY_VALUE.test(v), { message: 'must not contain control characters, "?" or "#"' })
  .refine((v) => !v.split('/').includes('..'), { message: 'must not contain ".." path traversal' });

export const exportInputSchema = z
  .object({
    exportName: z.string().regex(EXPORT_NAME, 'letters, digits, "_" and "-", at most 64').optional(),
    /** @default 'collection' */
    kind: z.enum(EXPORT_KINDS).optional(),
    path: z
      .string()
      .max(256)
      .regex(COLLECTION_PATH, 'must be an org-relative collection path such as "/workloads"')
      .refine((p) => !p.startsWith('/orgs/'), {
        message: 'is relative to the org: use "/workloads", not "/orgs/1/workloads"',
      })
      .optional(),
    query: z
      .record(z.string().regex(QUERY_KEY, 'query keys are letters, digits, "_", "." and "[]"'), queryValue)
      .refine((q) => Object.keys(q).length <= 32, { message: 'at most 32 query parameters' })
      .optional(),
    format: z.enum(['raw', 'ndjson']).optional(),
    gzip: z.boolean().optional(),
    maxWaitSeconds: z.number().int().min(1).max(MAX_WAIT_SECONDS_LIMIT).optional(),
    /** The Explorer query of a traffic export (see traffic-query.ts). */
    traffic: trafficInputSchema.optional(),
  })
  .strict();

export type ExportInput = z.input<typeof exportInputSchema>;

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
 * Fields that do not go with the export's kind, each with what is wrong. A traffic export takes
 * its query in `traffic`, not `path`/`query`; a collection export takes no `traffic`.
 */
export function kindIssues(input: {
  readonly kind?: ExportKind;
  readonly path?: unknown;
  readonly query?: unknown;
  readonly traffic?: unknown;
}): { field: 'path' | 'query' | 'traffic'; message: string }[] {
  if (input.kind === 'traffic') {
    return (['path', 'query'] as const)
      .filter((field) => input[field] !== undefined)
      .map((field) => ({
        field,
        message: 'is not used by a traffic export: its query goes in "traffic"',
      }));
  }
  return input.traffic === undefined
    ? []
    : [{ field: 'traffic', message: 'is only used by a traffic export: set "kind" to "traffic"' }];
}

/** `/sec_policy/draft/rule_sets` → `sec_policy-draft-rule_sets`. */
export function exportNameFromPath(path: string): string {
  return path.replace(/^\//, '').replaceAll('/', '-').slice(0, 64);
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
  if (merged.kind === 'traffic') {
    return {
      kind: 'traffic',
      name: merged.exportName ?? DEFAULT_TRAFFIC_EXPORT_NAME,
      path: TRAFFIC_PATH,
      query: {},
      format: merged.format ?? DEFAULT_FORMAT,
      gzip: merged.gzip ?? DEFAULT_GZIP,
      maxWaitSeconds: merged.maxWaitSeconds ?? DEFAULT_MAX_WAIT_SECONDS,
      traffic: resolveTrafficQuery(merged.traffic ?? {}, options.now ?? new Date()),
    };
  }
  if (merged.path === undefined) {
    const known = Object.keys(configured);
    throw new ExportConfigError(
      input.exportName === undefined
        ? 'Invalid input: input.path is required (e.g. "/workloads") unless input.exportName names a configured export'
        : `Invalid input: export "${input.exportName}" is not configured${known.length ? ` (configured: ${known.join(', ')})` : ''} and input.path is missing`,
    );
  }
  return {
    name: merged.exportName ?? exportNameFromPath(merged.path),
    path: merged.path,
    query: merged.query ?? {},
    format: merged.format ?? DEFAULT_FORMAT,
    gzip: merged.gzip ?? DEFAULT_GZIP,
    maxWaitSeconds: merged.maxWaitSeconds ?? DEFAULT_MAX_WAIT_SECONDS,
  };
}
