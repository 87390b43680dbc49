import { readFileSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as z from 'zod';
import { EXPORT_KINDS, type ExportInput, exportInputSchema, pceNameSchema } from '../lambdas/contracts/input';
import { BUCKET_NAME, keyPrefixIssue } from '../lambdas/contracts/patterns';
import { kindIssues } from '../lambdas/export/input';
import {
  checkAnalyticsConfig,
  eventsConfigSchema,
  glueConfigSchema,
  snapshotConfigSchema,
} from './analytics-config';
import {
  checkPcesConfig,
  KMS_KEY_ARN,
  KMS_KEY_ARN_RULE,
  pceConfigSchema,
  pceEntrySchema,
  secretConfigSchema,
} from './config-pces';
import { networkConfigSchema, proxyConfigSchema } from './network-config';

/**
 * The deploy configuration: one JSON file (`config/pce-export.json` unless `-c config=...` names
 * another), read by `bin/app.ts` and handed to the stack as typed props.
 */

/** Retention periods CloudWatch Logs accepts, in days. */
const LOG_RETENTION_DAYS: readonly number[] = Object.values(RetentionDays).filter(
  (days): days is RetentionDays => typeof days === 'number' && days !== RetentionDays.INFINITE,
);

const RATE = /^rate\(\s*[1-9]\d*\s+(minute|minutes|hour|hours|day|days)\s*\)$/;
const CRON = /^cron\(\s*\S+(\s+\S+){5}\s*\)$/;
const AT = /^at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)$/;

function timeZoneIssue(timeZone: string): string | undefined {
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  } catch {
    return `"${timeZone}" is not a known IANA time zone (e.g. "Europe/Zurich", "UTC")`;
  }
  if (resolved !== timeZone && resolved.toLowerCase() === timeZone.toLowerCase()) {
    return `must be spelled as the IANA time zone "${resolved}"`;
  }
  return undefined;
}

const scheduleSchema = z
  .object({
    /** `rate(1 day)`, `cron(0 5 * * ? *)` or `at(2030-01-01T05:00:00)`, as EventBridge Scheduler takes them. */
    expression: z.string().superRefine((expression, ctx) => {
      if (RATE.test(expression) || CRON.test(expression) || AT.test(expression)) return;
      ctx.addIssue({
        code: 'custom',
        message:
          expression.startsWith('cron(') || expression.startsWith('rate(') || expression.startsWith('at(')
            ? `"${expression}" is malformed: rate(<n> minutes|hours|days), cron(<6 fields>) or at(yyyy-mm-ddThh:mm:ss)`
            : 'must be rate(...), cron(...) or at(...)',
      });
    }),
    /** IANA time zone the expression is evaluated in. */
    timeZone: z
      .string()
      .superRefine((timeZone, ctx) => {
        const issue = timeZoneIssue(timeZone);
        if (issue) ctx.addIssue({ code: 'custom', message: issue });
      })
      .default('UTC'),
    /** A disabled schedule is deployed but does not fire. */
    enabled: z.boolean().default(true),
  })
  .strict();

/**
 * One export: a `collection` (with `path` and optional `query`) or a `traffic` export (with its
 * Explorer query in `traffic`; left out, the last 24 hours of every decision).
 */
const exportSchema = exportInputSchema
  .omit({ exportName: true })
  .extend({
    name: exportInputSchema.shape.exportName.unwrap(),
    kind: z.enum(EXPORT_KINDS),
    schedule: scheduleSchema.optional(),
  })
  .strict()
  .superRefine((definition, ctx) => {
    for (const issue of kindIssues(definition)) {
      ctx.addIssue({ code: 'custom', path: [issue.field], message: issue.message });
    }
    if (definition.kind === 'collection' && definition.path === undefined) {
      ctx.addIssue({ code: 'custom', path: ['path'], message: 'is required for a collection export' });
    }
  });

const configSchema = z
  .object({
    /** The one PCE (with `secret`); or `pces` for several (lib/config-pces.ts). */
    pce: pceConfigSchema.optional(),
    pces: z.array(pceEntrySchema).min(1).optional(),
    /** The one PCE's API key secret (with `pce`). @default a placeholder the stack creates */
    secret: secretConfigSchema.optional(),
    /** Where the functions that talk to the PCE run (lib/network-config.ts). @default not in a VPC */
    network: networkConfigSchema.optional(),
    /** The HTTP(S) proxy PCE traffic goes through (lib/network-config.ts). @default none */
    proxy: proxyConfigSchema.optional(),
    bucket: z
      .object({
        name: z
          .string()
          .regex(BUCKET_NAME, 'must be an S3 bucket name (3-63 lowercase letters, digits, "." and "-")')
          .optional(),
        /** The customer-managed key an existing bucket is encrypted with (SSE-KMS). @default none */
        kmsKeyArn: z.string().regex(KMS_KEY_ARN, KMS_KEY_ARN_RULE).optional(),
        prefix: z.string().superRefine((prefix, ctx) => {
          const issue = keyPrefixIssue(prefix);
          if (issue) ctx.addIssue({ code: 'custom', message: issue });
        }),
      })
      .strict()
      .refine((bucket) => bucket.kmsKeyArn === undefined || bucket.name !== undefined, {
        path: ['kmsKeyArn'],
        message:
          'names the key of an existing bucket: give "name" too (a created bucket is encrypted with SSE-S3)',
      }),
    exports: z.array(exportSchema),
    maxPollIntervalSeconds: z.number().int().min(1).max(3600).default(300),
    /** Memory of the Fetch function in MB; its CPU share grows with it (ExportWorkflowProps.fetchMemorySize). */
    fetchMemoryMb: z.number().int().min(128).max(10_240).optional(),
    logRetentionDays: z
      .number()
      .refine((days) => LOG_RETENTION_DAYS.includes(days), {
        message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
      })
      .transform((days) => days as RetentionDays)
      .default(RetentionDays.ONE_MONTH),
    alarmEmail: z.email('must be an email address').optional(),
    /** Where the completion and failure events go (lib/analytics-config.ts). */
    events: eventsConfigSchema.optional(),
    /** A Glue database with one Athena table per ndjson export (lib/glue.ts). */
    glue: glueConfigSchema.optional(),
    /** Snapshots: several exports into one folder with one manifest (lib/analytics-config.ts). */
    snapshots: z
      .array(snapshotConfigSchema(scheduleSchema).extend({ pce: pceNameSchema.optional() }))
      .optional(),
    /** Deploy the example parent state machine that runs an export with startExecution.sync:2. */
    exampleParent: z.boolean().optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    checkAnalyticsConfig(config, ctx);
    checkPcesConfig(config, ctx);
  })
  // The one PCE's secret defaults to a placeholder; with `pces` each PCE has its own.
  .transform((config) =>
    config.pce !== undefined && config.secret === undefined ? { ...config, secret: {} } : config,
  );

/** The parsed, defaulted deploy configuration. */
export type ExportConfig = z.output<typeof configSchema>;
export type ExportDefinition = ExportConfig['exports'][number];

/** The execution input a configured export stands for: `{"exportName": name}` plus its fields. */
export function exportInputOf(definition: ExportDefinition): ExportInput & { exportName: string } {
  const { name, pce, kind, path, query, format, gzip, maxWaitSeconds, traffic, events, changes } = definition;
  return {
    exportName: name,
    ...(pce === undefined ? {} : { pce }),
    ...(kind === 'traffic' ? { kind, ...(traffic === undefined ? {} : { traffic }) } : {}),
    ...(kind === 'events' ? { kind, ...(events === undefined ? {} : { events }) } : {}),
    ...(kind === 'collection' ? { path, ...(changes === undefined ? {} : { changes }) } : {}),
    ...(query === undefined ? {} : { query }),
    ...(format === undefined ? {} : { format }),
    ...(gzip === undefined ? {} : { gzip }),
    ...(maxWaitSeconds === undefined ? {} : { maxWaitSeconds }),
  };
}

/** Generic wording for zod's built-in checks; messages set on the schema take precedence. */
const describeIssue: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      if (issue.expected === 'int') return 'must be an integer';
      return `must be ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
    case 'too_small':
      if (issue.origin === 'number')
        return `must be ${issue.inclusive ? 'at least' : 'greater than'} ${issue.minimum}`;
      if (issue.origin === 'string') return `must be at least ${issue.minimum} characters long`;
      return undefined;
    case 'too_big':
      if (issue.origin === 'number')
        return `must be ${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}`;
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters long`;
      return undefined;
    case 'invalid_value':
      return `must be ${issue.values.map((value) => JSON.stringify(value)).join(' or ')}`;
    default:
      return undefined;
  }
};

/** `["exports", 1, "schedule", "expression"]` → `exports[1].schedule.expression`. */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`;
    const name = String(key);
    if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name)) return text === '' ? name : `${text}.${name}`;
    return `${text}[${JSON.stringify(name)}]`;
  }, '');
}

function describe(issue: z.core.$ZodIssue): string {
  const field = fieldPath(issue.path);
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    message = `has unknown field(s) ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
  } else if (issue.code === 'invalid_key') {
    message = `is not an accepted key: ${issue.issues.map((inner) => inner.message).join('; ')}`;
  }
  return field === '' ? `the configuration ${message}` : `${field} ${message}`;
}

/**
 * Validates a configuration object. Throws an Error whose message starts with `sourceName`
 * and names every offending field, e.g.
 * `config/pce-export.json: exports[1].schedule.expression must be rate(...), cron(...) or at(...)`.
 */
export function parseConfig(value: unknown, sourceName: string): ExportConfig {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${sourceName}: the configuration must be a JSON object`);
  }
  const parsed = configSchema.safeParse(value, { error: describeIssue });
  if (!parsed.success) throw new Error(`${sourceName}: ${parsed.error.issues.map(describe).join('; ')}`);
  return parsed.data;
}

/** Reads and validates a configuration file. Errors name the file (relative to the working directory). */
export function loadConfig(filePath: string): ExportConfig {
  const shown = relative(process.cwd(), filePath);
  const sourceName = shown === '' || shown.startsWith('..') || isAbsolute(shown) ? filePath : shown;
  let text: string;
  try {
    text = readFileSync(filePath, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new Error(`${sourceName}: cannot read the configuration file (${reason})`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${sourceName}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
  return parseConfig(value, sourceName);
}
