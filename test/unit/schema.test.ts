import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand, PutObjectTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { Ajv2020 } from 'ajv/dist/2020';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import type { z } from 'zod';
import {
  executionInputSchema,
  type exportInputSchema as exportExecutionInputSchema,
  type snapshotInputSchema as snapshotExecutionInputSchema,
} from '../../lambdas/contracts/input';
import type * as state from '../../lambdas/contracts/output';
import type { ExportErrorName } from '../../lambdas/export/errors';
import { fetchExport } from '../../lambdas/export/fetch-export';
import { exportInputOf, loadConfig } from '../../lib/config';
import { generateSchemas, SCHEMA_DIR } from '../../schema/generate';
import type * as published from '../../schema/index';
import { datafileClient } from '../support/fake-pce';

const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true, validateFormats: false });

function committed(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(SCHEMA_DIR, name), 'utf8')) as Record<string, unknown>;
}

const validateInput = ajv.compile(committed('execution-input.schema.json'));
const validateOutput = ajv.compile(committed('execution-output.schema.json'));

function errorsOf(validate: typeof validateInput, value: unknown): string[] {
  return validate(value)
    ? []
    : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message}`);
}

describe('the published JSON Schema files', () => {
  it.each(Object.keys(generateSchemas()))(
    '%s is up to date with the zod schemas (npm run schema)',
    (name) => {
      const generated = generateSchemas()[name];

      // Compared as JSON, so that the formatter may lay the file out as it likes.
      expect(generated).toBeDefined();
      expect(committed(name)).toEqual(generated);
    },
  );
});

describe('the execution input schema', () => {
  it('accepts what each configured export and schedule passes', () => {
    const config = loadConfig(join(import.meta.dirname, '..', '..', 'config', 'pce-export.json'));
    const inputs = config.exports.map(exportInputOf);

    expect(inputs.length).toBeGreaterThan(0);
    for (const input of inputs) expect(errorsOf(validateInput, input)).toEqual([]);
  });

  it.each([
    ['a configured export by name', { exportName: 'workloads' }],
    ['a path alone', { path: '/labels' }],
    [
      'every field',
      {
        exportName: 'managed-workloads',
        path: '/workloads',
        query: { managed: 'true', max_results: 10, online: true },
        format: 'raw',
        gzip: false,
        maxWaitSeconds: 7200,
      },
    ],
    ['a configured snapshot by name', { snapshot: { name: 'policy-model' } }],
    [
      'a snapshot of named and inline exports',
      { snapshot: { name: 'morning', exports: ['labels', { exportName: 'managed', path: '/workloads' }] } },
    ],
  ])('accepts %s, as the handlers do', (_, input) => {
    expect(errorsOf(validateInput, input)).toEqual([]);
    expect(executionInputSchema.safeParse(input).success).toBe(true);
  });

  it.each([
    ['an unknown field', { path: '/labels', bucket: 'elsewhere' }, 'must NOT have additional properties'],
    ['an unknown format', { path: '/labels', format: 'csv' }, 'must be equal to one of the allowed values'],
    ['a path outside the org', { path: '../labels' }, 'must match pattern'],
    ['a fractional wait', { path: '/labels', maxWaitSeconds: 1.5 }, 'must be integer'],
    ['a wait above a day', { path: '/labels', maxWaitSeconds: 86_401 }, 'must be <= 86400'],
    [
      'a nested query value',
      { path: '/labels', query: { key: { role: 'web' } } },
      '/query/key must be string; /query/key must be number; /query/key must be boolean',
    ],
    [
      'a snapshot with no exports',
      { snapshot: { name: 'morning', exports: [] } },
      'must NOT have fewer than 1 items',
    ],
    ['a snapshot name with a slash', { snapshot: { name: 'a/b' } }, 'must match pattern'],
    [
      'a snapshot mixed with export fields',
      { snapshot: { name: 'morning' }, path: '/labels' },
      'must NOT have additional properties',
    ],
  ])('rejects %s, as the handlers do', (_, input, message) => {
    expect(errorsOf(validateInput, input).join('; ')).toContain(message);
    expect(executionInputSchema.safeParse(input).success).toBe(false);
  });
});

describe('the execution output schema', () => {
  it('accepts the output Fetch returns for a real datafile', async () => {
    const s3 = new S3Client({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKID', secretAccessKey: 's' },
    });
    const s3Mock = mockClient(s3);
    s3Mock.on(PutObjectCommand).resolves({ ETag: '"etag"' });
    s3Mock.on(PutObjectTaggingCommand).resolves({});
    const body = '[{"href":"/orgs/1/labels/1","key":"role","value":"web"}]';
    const client = datafileClient(body);

    const output = await fetchExport(
      {
        export: {
          name: 'labels',
          path: '/labels',
          query: {},
          format: 'ndjson',
          gzip: true,
          maxWaitSeconds: 60,
        },
        execution: { name: 'nightly', startTime: '2026-03-04T05:06:07.890Z' },
        job: {
          href: '/orgs/1/jobs/42',
          status: 'done',
          polls: 2,
          waitSeconds: 1,
          retryAfterSeconds: 1,
          requestedAt: '2026-03-04T05:06:08.000Z',
          deadline: '2026-03-04T05:07:08.000Z',
          timedOut: false,
          resultHref: '/orgs/1/datafiles/7',
        },
      },
      {
        connect: async () => client,
        s3,
        storage: { bucket: 'exports', prefix: 'pce/', partSizeBytes: 5 * 1024 * 1024, queueSize: 1 },
        orgId: 1,
        logger: { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() },
      },
    );

    expect(errorsOf(validateOutput, output)).toEqual([]);
    s3Mock.restore();
  });

  it('rejects an output without its checksum or with a malformed uri', () => {
    const output = {
      exportName: 'labels',
      bucket: 'exports',
      key: 'pce/labels/dt=2026-03-04/050607Z_nightly.ndjson.gz',
      uri: 'https://exports.s3.amazonaws.com/pce/labels',
      bytes: 10,
      format: 'ndjson',
      gzip: true,
      jobHref: '/orgs/1/jobs/42',
      polls: 1,
      requestedAt: '2026-03-04T05:06:08.000Z',
      completedAt: '2026-03-04T05:07:00.000Z',
      manifestKey: 'pce/labels/_manifests/dt=2026-03-04/050607Z_nightly.manifest.json',
    };

    const errors = errorsOf(validateOutput, output);

    expect(errors).toContain(" must have required property 'sha256'");
    expect(errors.some((error) => error.startsWith('/uri must match pattern'))).toBe(true);
  });
});

describe('the published TypeScript types', () => {
  it('match what the handlers accept and return', () => {
    // Both ways round: the published types are the handlers' input types, up to `readonly`.
    expectTypeOf<published.ExportExecutionInput>().toExtend<z.input<typeof exportExecutionInputSchema>>();
    expectTypeOf<z.input<typeof exportExecutionInputSchema>>().toExtend<published.ExportExecutionInput>();
    expectTypeOf<published.SnapshotExecutionInput>().toExtend<z.input<typeof snapshotExecutionInputSchema>>();
    expectTypeOf<z.input<typeof snapshotExecutionInputSchema>>().toExtend<published.SnapshotExecutionInput>();
    expectTypeOf<published.ExecutionInput>().toExtend<z.input<typeof executionInputSchema>>();
    expectTypeOf<published.ExportOutput>().toEqualTypeOf<state.ExportOutput>();
    expectTypeOf<published.SnapshotOutput>().toEqualTypeOf<state.SnapshotOutput>();
    expectTypeOf<published.ExecutionErrorName>().toEqualTypeOf<ExportErrorName>();
  });
});
