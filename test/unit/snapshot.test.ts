import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CopyObjectCommand, PutObjectCommand, PutObjectTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { Ajv2020 } from 'ajv/dist/2020';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExportConfigError } from '../../lambdas/contracts/errors';
import type { ExportOutput } from '../../lambdas/contracts/output';
import { fetchExport } from '../../lambdas/export/fetch-export';
import { completeSnapshot, planSnapshot, type SnapshotPlan } from '../../lambdas/export/snapshot';
import { SCHEMA_DIR } from '../../schema/generate';
import { configError } from '../support/errors';
import { datafileClient } from '../support/fake-pce';

const EXECUTION = { name: 'run-7', startTime: '2026-03-04T05:06:07.890Z' };
const FOLDER = 'pce/snapshots/morning/dt=2026-03-04/050607Z_run-7/';
const CONFIGURED = {
  labels: { exportName: 'labels', path: '/labels' },
  workloads: { exportName: 'workloads', path: '/workloads', query: { managed: 'true' } },
};
const SHA = 'a'.repeat(64);

const s3 = new S3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 's' } });
const s3Mock = mockClient(s3);
const logger = () => ({ debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() });

beforeEach(() => {
  s3Mock.reset();
  s3Mock.on(PutObjectCommand).resolves({});
  s3Mock.on(PutObjectTaggingCommand).resolves({});
});
afterEach(() => {
  s3Mock.reset();
});

function plan(input: unknown, snapshots = {}) {
  return planSnapshot(
    { input, execution: EXECUTION },
    { configuredExports: CONFIGURED, configuredSnapshots: snapshots, prefix: 'pce/' },
  );
}

describe('planSnapshot', () => {
  it('resolves configured names and inline inputs into one folder of this run', () => {
    expect(
      plan({ snapshot: { name: 'morning', exports: ['labels', { path: '/sec_policy/active/rule_sets' }] } }),
    ).toEqual({
      snapshot: {
        name: 'morning',
        folder: FOLDER,
        manifestKey: `${FOLDER}manifest.json`,
        members: [{ exportName: 'labels' }, { path: '/sec_policy/active/rule_sets' }],
      },
    });
  });

  it('takes the members of a configured snapshot when the input names it only', () => {
    expect(plan({ snapshot: { name: 'morning' } }, { morning: ['workloads'] }).snapshot.members).toEqual([
      { exportName: 'workloads' },
    ]);
  });

  it.each([
    [{ snapshot: { name: 'evening' } }, 'snapshot "evening" is not configured (configured: morning)'],
    [
      { snapshot: { name: 'morning', exports: ['labels', 'vens'] } },
      'input.snapshot.exports[1] names export "vens"',
    ],
    [
      { snapshot: { name: 'morning', exports: [{ path: '/labels' }, 'labels'] } },
      'input.snapshot.exports[1] is export "labels" again (as input.snapshot.exports[0])',
    ],
    [
      { snapshot: { name: 'morning', exports: [{ path: '/orgs/1/labels' }] } },
      'input.snapshot.exports.0.path is relative to the org',
    ],
    [{ snapshot: { name: '../up' } }, 'input.snapshot.name'],
    [{ snapshot: { name: 'morning' }, exportName: 'labels' }, 'unknown field'],
  ])('rejects %j with ExportConfigError naming the member', (input, message) => {
    expect(configError(() => plan(input, { morning: ['labels'] }))).toContain(message);
  });
});

function output(exportName: string, key = `${FOLDER}${exportName}.ndjson.gz`): ExportOutput {
  return {
    exportName,
    bucket: 'exports',
    key,
    uri: `s3://exports/${key}`,
    bytes: 10,
    sha256: SHA,
    format: 'ndjson',
    gzip: true,
    objectCount: 2,
    jobHref: '/orgs/1/jobs/1',
    polls: 1,
    requestedAt: '2026-03-04T05:06:08.000Z',
    completedAt: '2026-03-04T05:06:09.000Z',
    manifestKey: `${FOLDER}manifest.json`,
  };
}

const PLAN: SnapshotPlan = {
  name: 'morning',
  folder: FOLDER,
  manifestKey: `${FOLDER}manifest.json`,
  members: [{ exportName: 'labels' }, { exportName: 'workloads' }],
};

function complete(results: unknown, snapshot: unknown = PLAN) {
  return completeSnapshot(
    { snapshot, results, execution: EXECUTION },
    {
      s3,
      storage: { bucket: 'exports', prefix: 'pce/' },
      orgId: 1,
      logger: logger(),
      now: () => new Date('2026-03-04T05:07:00.000Z'),
    },
  );
}

describe('completeSnapshot', () => {
  it('writes the manifest, then latest.json, and returns an output the published schema accepts', async () => {
    const result = await complete([output('labels'), output('workloads')]);

    const puts = s3Mock.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    expect(puts.map((put) => put.Key)).toEqual([
      `${FOLDER}manifest.json`,
      'pce/snapshots/morning/latest.json',
    ]);
    const manifest = JSON.parse(String(puts[0]?.Body));
    expect(manifest).toMatchObject({ ...result, executionName: 'run-7', org: 1 });
    expect(result).toMatchObject({
      snapshotName: 'morning',
      prefix: FOLDER,
      uri: `s3://exports/${FOLDER}`,
      bytes: 20,
      startedAt: EXECUTION.startTime,
      completedAt: '2026-03-04T05:07:00.000Z',
    });
    expect(result.objects.map((object) => object.key)).toEqual([
      `${FOLDER}labels.ndjson.gz`,
      `${FOLDER}workloads.ndjson.gz`,
    ]);
    expect(result.objects[0]).not.toHaveProperty('manifestKey');
    const validate = new Ajv2020({ strict: true, allowUnionTypes: true, validateFormats: false }).compile(
      JSON.parse(readFileSync(join(SCHEMA_DIR, 'execution-output.schema.json'), 'utf8')) as object,
    );
    expect(validate(result), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each([
    [
      'an object outside the folder',
      [output('labels'), output('workloads', 'pce/workloads/dt=2026-03-04/x.ndjson.gz')],
    ],
    ['a result missing', [output('labels')]],
    ['two results of one key', [output('labels'), output('labels')]],
  ])('rejects %s and writes nothing', async (_, results) => {
    await expect(complete(results)).rejects.toBeInstanceOf(ExportConfigError);
    expect(s3Mock.commandCalls(PutObjectCommand)).toEqual([]);
  });

  it("rejects a plan whose folder is not this execution's", async () => {
    const other = { ...PLAN, folder: 'pce/elsewhere/', manifestKey: 'pce/elsewhere/manifest.json' };

    await expect(complete([output('labels'), output('workloads')], other)).rejects.toThrow(
      `state.snapshot.folder must be ${FOLDER}`,
    );
    expect(s3Mock.commandCalls(PutObjectCommand)).toEqual([]);
  });
});

describe('fetchExport in a snapshot run', () => {
  it("stores the object in the snapshot's folder and writes no manifest or latest.json of its own", async () => {
    const client = datafileClient('[{"href":"/orgs/1/labels/1"}]');

    const result = await fetchExport(
      {
        export: {
          name: 'labels',
          path: '/labels',
          query: {},
          format: 'ndjson',
          gzip: true,
          maxWaitSeconds: 60,
        },
        execution: { ...EXECUTION, snapshot: 'morning' },
        job: {
          href: '/orgs/1/jobs/42',
          status: 'done',
          polls: 1,
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
        logger: logger(),
      },
    );

    expect(result).toMatchObject({ key: `${FOLDER}labels.ndjson.gz`, manifestKey: `${FOLDER}manifest.json` });
    expect(s3Mock.commandCalls(PutObjectCommand).map((call) => call.args[0].input.Key)).toEqual([
      `${FOLDER}labels.ndjson.gz`,
    ]);
    expect(s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input.Metadata).toMatchObject({
      snapshot: 'morning',
    });
    expect(s3Mock.commandCalls(PutObjectTaggingCommand)[0]?.args[0].input).toMatchObject({
      Key: `${FOLDER}labels.ndjson.gz`,
    });
    expect(s3Mock.commandCalls(CopyObjectCommand)).toEqual([]);
    expect(client.collections.delete).toHaveBeenCalledWith('/orgs/1/jobs/42');
  });
});
