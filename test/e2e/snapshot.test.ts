import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { Ajv2020 } from 'ajv/dist/2020';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SnapshotOutput } from '../../lambdas/contracts/output';
import { localExecutionArn, type RunOutcome } from '../../local/runner';
import { SCHEMA_DIR } from '../../schema/generate';
import { fault, type RunningSimulator, startSimulator } from '../../simulator/index';
import { BUCKET, type Harness, PREFIX, sha256, startHarness, succeeded } from './harness';

const FOLDER = /^pce\/snapshots\/morning\/dt=\d{4}-\d{2}-\d{2}\/\d{6}Z_[A-Za-z0-9_.-]+\/$/;

const validateOutput = new Ajv2020({ strict: true, allowUnionTypes: true, validateFormats: false }).compile(
  JSON.parse(readFileSync(join(SCHEMA_DIR, 'execution-output.schema.json'), 'utf8')) as object,
);

function failed(outcome: RunOutcome): { error: string; cause: string } {
  if (outcome.status !== 'FAILED')
    throw new Error(`expected the execution to fail, it succeeded: ${JSON.stringify(outcome.output)}`);
  return { error: outcome.error, cause: outcome.cause };
}

/** Configured exports, as the stack passes them (PCE_EXPORTS). */
const EXPORTS = {
  'snap-labels': { exportName: 'snap-labels', path: '/labels' },
  'snap-workloads': { exportName: 'snap-workloads', path: '/workloads', query: { managed: 'true' } },
  'snap-services': {
    exportName: 'snap-services',
    path: '/sec_policy/active/services',
    format: 'raw',
    gzip: false,
  },
};

describe('snapshot runs of the locally run workflow', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterEach(() => h.reset());
  afterAll(async () => {
    await h?.close();
  });

  function json(bytes: Buffer): Record<string, unknown> {
    return JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  }

  it('exports every member into one dated folder with one manifest, then latest.json, and returns them', async () => {
    const input = {
      snapshot: {
        name: 'morning',
        exports: [
          'snap-labels',
          'snap-workloads',
          'snap-services',
          { exportName: 'snap-rule-sets', path: '/sec_policy/active/rule_sets' },
        ],
      },
    };

    const outcome = await h.run(input, { exports: EXPORTS });

    const output = succeeded<SnapshotOutput>(outcome);
    expect(validateOutput(output), JSON.stringify(validateOutput.errors)).toBe(true);
    expect(output.prefix).toMatch(FOLDER);
    expect(output).toMatchObject({
      snapshotName: 'morning',
      bucket: BUCKET,
      uri: `s3://${BUCKET}/${output.prefix}`,
      manifestKey: `${output.prefix}manifest.json`,
    });
    expect(output.objects.map((object) => object.key)).toEqual([
      `${output.prefix}snap-labels.ndjson.gz`,
      `${output.prefix}snap-workloads.ndjson.gz`,
      `${output.prefix}snap-services.json`,
      `${output.prefix}snap-rule-sets.ndjson.gz`,
    ]);
    expect(await h.listKeys(`${PREFIX}snapshots/morning/`)).toEqual(
      [
        ...output.objects.map((object) => object.key),
        output.manifestKey,
        `${PREFIX}snapshots/morning/latest.json`,
      ].sort(),
    );
    // The members wrote no manifest or latest.json of their own, nor anything in their export folders.
    for (const name of ['snap-labels', 'snap-workloads', 'snap-services', 'snap-rule-sets']) {
      expect(await h.listKeys(`${PREFIX}${name}/`)).toEqual([]);
    }
  });

  it('lists in the manifest each object with the bytes and sha256 that are stored, and points latest.json at it', async () => {
    const output = succeeded<SnapshotOutput>(
      await h.run(
        { snapshot: { name: 'morning', exports: ['snap-labels', 'snap-workloads'] } },
        { exports: EXPORTS },
      ),
    );

    const manifest = json(await h.getObject(output.manifestKey));
    const latest = json(await h.getObject(`${PREFIX}snapshots/morning/latest.json`));
    expect(manifest).toMatchObject({ ...output, executionName: expect.any(String), org: 1 });
    expect(latest).toEqual(manifest);
    for (const object of output.objects) {
      const stored = await h.getObject(object.key);
      expect(object.bytes).toBe(stored.length);
      expect(object.sha256).toBe(sha256(stored));
      expect((await h.head(object.key)).snapshot).toBe('morning');
    }
    const labels = gunzipSync(await h.getObject(output.objects[0]?.key ?? '')).toString('utf8');
    expect(labels.trim().split('\n')).toHaveLength(output.objects[0]?.objectCount ?? -1);
  });

  it('runs a configured snapshot by name', async () => {
    const outcome = await h.run(
      { snapshot: { name: 'morning' } },
      { exports: EXPORTS, snapshots: { morning: ['snap-services', 'snap-labels'] } },
    );

    const output = succeeded<SnapshotOutput>(outcome);
    expect(output.objects.map((object) => object.exportName)).toEqual(['snap-services', 'snap-labels']);
  });

  it('sends "Snapshot Succeeded" with the output as detail', async () => {
    const outcome = await h.run(
      { snapshot: { name: 'morning', exports: ['snap-labels'] } },
      { exports: EXPORTS },
    );

    const output = succeeded<SnapshotOutput>(outcome);
    expect(h.engine.events.sentBy(localExecutionArn(outcome.executionName))).toEqual([
      expect.objectContaining({ source: 'pce-export', detailType: 'Snapshot Succeeded', detail: output }),
    ]);
  });

  it('fails with PceJobFailed when one member job fails, and writes no manifest or latest.json', async () => {
    h.simulator.faults.add(fault.jobFails('Job failed: exceeded time limit', { nth: 2 }));
    const before = await h.listKeys(`${PREFIX}snapshots/failing/`);

    const outcome = await h.run(
      { snapshot: { name: 'failing', exports: ['snap-labels', 'snap-workloads', 'snap-services'] } },
      { exports: EXPORTS },
    );

    const { error, cause } = failed(outcome);
    expect(error).toBe('PceJobFailed');
    expect(cause).toContain('exceeded time limit');
    const keys = await h.listKeys(`${PREFIX}snapshots/failing/`);
    expect(before).toEqual([]);
    expect(keys.filter((key) => key.endsWith('manifest.json') || key.endsWith('latest.json'))).toEqual([]);
    expect(h.engine.events.sentBy(localExecutionArn(outcome.executionName))).toEqual([
      expect.objectContaining({
        detailType: 'Export Failed',
        detail: expect.objectContaining({
          error: 'PceJobFailed',
          cause,
          input: expect.objectContaining({ snapshot: expect.anything() }),
        }),
      }),
    ]);
  });

  it('fails with the named error of a member the PCE refuses, and writes no manifest', async () => {
    const outcome = await h.run(
      {
        snapshot: {
          name: 'refused',
          exports: ['snap-labels', { exportName: 'nothing', path: '/no_such_collection' }],
        },
      },
      { exports: EXPORTS },
    );

    const { error, cause } = failed(outcome);
    expect(error).toBe('PceRequestError');
    expect(cause).toContain('no_such_collection');
    expect((await h.listKeys(`${PREFIX}snapshots/refused/`)).filter((key) => key.endsWith('.json'))).toEqual(
      [],
    );
  });

  it.each([
    [
      'two members with the same export name',
      {
        snapshot: { name: 'twice', exports: ['snap-labels', { exportName: 'snap-labels', path: '/labels' }] },
      },
      'input.snapshot.exports[1] is export "snap-labels" again',
    ],
    [
      'a member that is not configured',
      { snapshot: { name: 'unknown', exports: ['snap-labels', 'nope'] } },
      'input.snapshot.exports[1] names export "nope", which is not configured',
    ],
    [
      'a snapshot that is not configured and lists no exports',
      { snapshot: { name: 'nameless' } },
      'snapshot "nameless" is not configured',
    ],
  ])('fails with ExportConfigError for %s before asking the PCE anything', async (_, input, message) => {
    const outcome = await h.run(input, { exports: EXPORTS });

    const { error, cause } = failed(outcome);
    expect(error).toBe('ExportConfigError');
    expect(cause).toContain(message);
    expect(h.simulator.requests).toEqual([]);
  });
});

describe('pce-export run --input-json with a snapshot', () => {
  const BIN = resolve(import.meta.dirname, '../../bin/pce-export.mjs');
  let simulator: RunningSimulator;
  let dir: string;

  beforeAll(async () => {
    simulator = await startSimulator({
      jobDurationMs: 300,
      retryAfterSeconds: 1,
      dataset: { labels: 40, workloads: 50 },
    });
    dir = await mkdtemp(join(tmpdir(), 'pce-export-snapshot-'));
  });
  afterAll(async () => {
    await simulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function cli(input: unknown, ...extra: string[]) {
    const file = join(dir, `input-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(file, JSON.stringify(input));
    const args = [
      'run',
      '--pce-url',
      simulator.url,
      '--org',
      '1',
      '--input-json',
      file,
      '--out',
      join(dir, 'out'),
      ...extra,
    ];
    return promisify(execFile)(process.execPath, [BIN, ...args], {
      env: {
        ...process.env,
        PCE_API_KEY: simulator.credentials.apiKey,
        PCE_API_SECRET: simulator.credentials.apiSecret,
      },
    }).then(
      (result) => ({ code: 0, stdout: result.stdout, stderr: result.stderr }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
  }

  it('runs the snapshot locally and copies its folder, manifest included, to --out', async () => {
    const { code, stdout } = await cli({
      snapshot: {
        name: 'laptop',
        exports: [
          { exportName: 'labels', path: '/labels' },
          { exportName: 'workloads', path: '/workloads' },
        ],
      },
    });

    expect(code).toBe(0);
    const output = JSON.parse(stdout.trimEnd().split('\n').at(-1) ?? '') as SnapshotOutput & {
      localPath: string;
    };
    expect(output.snapshotName).toBe('laptop');
    expect(output.localPath).toBe(join(dir, 'out', output.prefix).replace(/\/$/, ''));
    expect((await readdir(output.localPath)).sort()).toEqual([
      'labels.ndjson.gz',
      'manifest.json',
      'workloads.ndjson.gz',
    ]);
  });

  it('runs a snapshot of exports named in the deploy configuration', async () => {
    const { code, stdout } = await cli({ snapshot: { name: 'named', exports: ['labels', 'rule-sets'] } });

    expect(code).toBe(0);
    const output = JSON.parse(stdout.trimEnd().split('\n').at(-1) ?? '') as SnapshotOutput;
    expect(output.objects.map((o) => [o.exportName, o.format])).toEqual([
      ['labels', 'ndjson'],
      ['rule-sets', 'raw'],
    ]);
  });

  it.each([
    [{ path: '/labels' }, ['--path', '/labels'], '--path does not go with --input-json'],
    [{ snapshot: { name: 'laptop', exports: [] } }, [], 'snapshot.exports must have at least 1 entry'],
  ])('exits 2 with the reason for %j %j', async (input, extra, message) => {
    const { code, stderr } = await cli(input, ...extra);

    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });
});
