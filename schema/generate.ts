import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as z from 'zod';
import { executionInputSchema, exportInputSchema, snapshotInputSchema } from '../lambdas/contracts/input';
import { executionOutputSchema, exportOutputSchema, snapshotOutputSchema } from '../lambdas/contracts/output';
import { ERROR_NAMES } from '../lambdas/export/errors';

/*
 * Writes the published JSON Schema files from the zod schemas of `lambdas/contracts/` (`npm run schema`, which then lets
 * Biome lay them out). A unit test fails when a committed file says something else than what
 * this generates.
 */

export const SCHEMA_DIR = import.meta.dirname;

type JsonSchema = Record<string, unknown> & {
  properties?: Record<string, Record<string, unknown>>;
  $defs?: Record<string, JsonSchema>;
};

/**
 * Names and titles of the schemas that get a `$defs` entry: the export input is used at the top
 * level and again as a snapshot member, so it is written once and referred to.
 */
function definitions() {
  const registry = z.registry<{ id?: string; title?: string; description?: string }>();
  registry.add(exportInputSchema, {
    id: 'ExportInput',
    title: 'Export input',
    description: 'Exports one collection (or one traffic query).',
  });
  registry.add(snapshotInputSchema, {
    id: 'SnapshotInput',
    title: 'Snapshot input',
    description:
      'Exports several collections into one folder with one manifest: members are names of configured exports or export inputs.',
  });
  registry.add(exportOutputSchema, { id: 'ExportOutput', title: 'Export output' });
  registry.add(snapshotOutputSchema, { id: 'SnapshotOutput', title: 'Snapshot output' });
  return registry;
}

/** Descriptions of the input fields (the zod input schema is shared with the handlers and carries none). */
const INPUT_DESCRIPTIONS: Readonly<Record<string, string>> = {
  exportName:
    'Name of the export: picks up a configured export of that name (its fields are the defaults), and names the S3 folder. Default: derived from path.',
  kind: 'collection (default): a PCE collection through the async job API; traffic: an Explorer traffic query.',
  path: 'Org-relative collection path, e.g. /workloads, /labels, /sec_policy/active/rule_sets. Required unless exportName names a configured export.',
  query:
    'Collection filters sent with the request, e.g. {"managed": "true"}; numbers and booleans are sent as text.',
  format:
    'raw: the JSON array byte for byte; ndjson: one object per line (what Athena reads). Default: ndjson.',
  gzip: 'Gzip the stored object (the key then ends in .gz). Default: true.',
  maxWaitSeconds: 'Give up on the PCE job after this many seconds (PceJobTimeout). Default: 3600.',
  traffic:
    'The Explorer query of a traffic export (kind "traffic"): since or start/end, policyDecisions, sources, destinations, maxResults, queryName.',
};

function describeProperties(
  schema: JsonSchema | undefined,
  descriptions: Readonly<Record<string, string>>,
): void {
  for (const [name, property] of Object.entries(schema?.properties ?? {})) {
    const description = descriptions[name];
    if (description !== undefined && property.description === undefined) property.description = description;
  }
}

function document(schema: z.ZodType, io: 'input' | 'output', header: Record<string, string>): JsonSchema {
  const generated = z.toJSONSchema(schema, {
    io,
    target: 'draft-2020-12',
    metadata: definitions(),
    // Field descriptions and formats are set with .meta() on the shared schemas, which puts them
    // in zod's global registry; this document names its definitions through its own registry.
    override: ({ zodSchema, jsonSchema }) => {
      const meta = z.globalRegistry.get(zodSchema as unknown as z.ZodType);
      if (meta?.description !== undefined) jsonSchema.description ??= meta.description;
      if (typeof meta?.format === 'string') jsonSchema.format ??= meta.format;
    },
  }) as JsonSchema;
  const { $schema, ...rest } = generated;
  return { $schema, ...header, ...rest };
}

/** The published documents by file name. */
export function generateSchemas(): Record<string, JsonSchema> {
  const input = document(executionInputSchema, 'input', {
    $id: 'urn:pce-export:schema:execution-input',
    title: 'pce-export execution input',
    description:
      'Input of a pce-export state machine execution (StartExecution, a schedule, or a parent state machine with states:startExecution.sync:2).',
  });
  describeProperties(input.$defs?.ExportInput, INPUT_DESCRIPTIONS);
  const output = document(executionOutputSchema, 'output', {
    $id: 'urn:pce-export:schema:execution-output',
    title: 'pce-export execution output',
    description: `Output of a successful pce-export execution: where the object (or, for a snapshot, the folder and its objects) is and how to check it. Failures end in a Fail state whose error is one of ${ERROR_NAMES.join(', ')}.`,
  });
  return {
    'execution-input.schema.json': input,
    'execution-output.schema.json': output,
  };
}

/** The file contents exactly as committed. */
export function renderSchema(schema: JsonSchema): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const [name, schema] of Object.entries(generateSchemas())) {
    writeFileSync(join(SCHEMA_DIR, name), renderSchema(schema));
    console.log(`wrote schema/${name}`);
  }
}
