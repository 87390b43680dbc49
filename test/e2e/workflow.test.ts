import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportOutput } from '../../lambdas/contracts/output';
import { BUCKET, type Harness, PREFIX, sha256, startHarness, succeeded } from './harness';

const KEY_SHAPE = /^pce\/workloads\/dt=\d{4}-\d{2}-\d{2}\/\d{6}Z_[A-Za-z0-9_.-]+\.(json|ndjson)(\.gz)?$/;

describe('the export workflow, run locally against the simulator', () => {
  let h: Harness;
  let rawDatafile: Buffer;

  beforeAll(async () => {
    h = await startHarness();
    rawDatafile = await h.datafile('/workloads');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('stores a raw export byte for byte as the PCE served it', async () => {
    const output = succeeded<ExportOutput>(
      await h.run({ exportName: 'workloads', path: '/workloads', format: 'raw', gzip: false }),
    );

    const stored = await h.getObject(output.key);
    expect(stored.equals(rawDatafile)).toBe(true);
    expect(output).toMatchObject({
      bucket: BUCKET,
      uri: `s3://${BUCKET}/${output.key}`,
      bytes: rawDatafile.length,
      sha256: sha256(rawDatafile),
      format: 'raw',
      gzip: false,
      objectCount: 500,
    });
    expect(output.key).toMatch(KEY_SHAPE);
    expect(output.key.endsWith('.json')).toBe(true);
  });

  it('stores ndjson with gzip by default, one PCE object per line', async () => {
    const output = succeeded<ExportOutput>(await h.run({ exportName: 'workloads', path: '/workloads' }));

    const stored = await h.getObject(output.key);
    const lines = gunzipSync(stored).toString('utf8').split('\n');
    expect(output).toMatchObject({ format: 'ndjson', gzip: true, objectCount: 500, sha256: sha256(stored) });
    expect(output.key.endsWith('.ndjson.gz')).toBe(true);
    expect(lines.pop()).toBe('');
    expect(lines.map((line) => JSON.parse(line))).toEqual(JSON.parse(rawDatafile.toString('utf8')));
  });

  it('writes the object once: one PutObject, then its tags, and no copy of it onto itself', async () => {
    h.reset();

    const output = succeeded<ExportOutput>(await h.run({ exportName: 'once', path: '/workloads' }));

    const requests = h.engine.s3?.requests ?? [];
    expect(requests.filter((r) => r.operation === 'CopyObject')).toEqual([]);
    // s3rver keeps no versions: the requests at the key say how many S3 would keep.
    expect(requests.filter((r) => r.key === output.key).map((r) => r.operation)).toEqual([
      'PutObject',
      'PutObjectTagging',
    ]);
    expect(await h.tags(output.key)).toEqual({ sha256: output.sha256, 'object-count': '500' });
    expect(await h.head(output.key)).toMatchObject({ 'job-href': output.jobHref, path: '/workloads' });
  });

  it('carries the job, org, path and query in the object metadata and writes a manifest and latest.json', async () => {
    const output = succeeded<ExportOutput>(
      await h.run({
        exportName: 'managed',
        path: '/workloads',
        query: { managed: 'true' },
        format: 'ndjson',
        gzip: false,
      }),
    );

    const metadata = await h.head(output.key);
    const tags = await h.tags(output.key);
    const manifest = JSON.parse((await h.getObject(output.manifestKey)).toString('utf8'));
    const latest = JSON.parse((await h.getObject(`${PREFIX}managed/latest.json`)).toString('utf8'));
    expect(metadata).toMatchObject({
      'job-href': output.jobHref,
      org: '1',
      path: '/workloads',
    });
    expect(metadata.query).toBe('managed=true');
    expect(tags).toEqual({ sha256: output.sha256, 'object-count': String(output.objectCount) });
    expect(manifest).toMatchObject({
      key: output.key,
      sha256: output.sha256,
      bytes: output.bytes,
      jobHref: output.jobHref,
    });
    expect(latest).toMatchObject({ key: output.key, manifestKey: output.manifestKey });
  });

  it('sends the filter to the PCE and exports only the matching objects', async () => {
    h.simulator.requests.length = 0;

    const output = succeeded<ExportOutput>(
      await h.run({ path: '/labels', query: { key: 'env' }, format: 'ndjson', gzip: false }),
    );

    const submit = h.simulator.requests.find((r) => r.endpoint === 'submit');
    const labels = (await h.getObject(output.key))
      .toString('utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { key: string });
    expect(submit?.query).toEqual({ key: 'env' });
    expect(labels.length).toBeGreaterThan(0);
    expect(labels.every((label) => label.key === 'env')).toBe(true);
    expect(output.exportName).toBe('labels');
  });

  it('speaks the async protocol: Basic auth, Prefer respond-async, polls, then deletes the job', async () => {
    h.simulator.requests.length = 0;

    const output = succeeded<ExportOutput>(await h.run({ path: '/workloads' }));

    const calls = h.simulator.requests.map((r) => `${r.method} ${r.endpoint}`);
    const submit = h.simulator.requests[0];
    const basic = `Basic ${Buffer.from(`${h.simulator.credentials.apiKey}:${h.simulator.credentials.apiSecret}`).toString('base64')}`;
    expect(calls[0]).toBe('GET submit');
    expect(calls.filter((c) => c === 'GET job').length).toBe(output.polls);
    expect(calls.slice(-2)).toEqual(['GET datafile', 'DELETE delete']);
    expect(submit?.headers.prefer).toBe('respond-async');
    expect(submit?.headers.authorization).toBe(basic);
    expect(submit?.headers['user-agent']).toMatch(/^pce-export\/\d+\.\d+\.\d+/);
  });

  it('keeps both objects when the same export runs twice at once', async () => {
    const [a, b] = await Promise.all([h.run({ path: '/workloads' }), h.run({ path: '/workloads' })]);

    const first = succeeded<ExportOutput>(a);
    const second = succeeded<ExportOutput>(b);
    expect(first.key).not.toBe(second.key);
    expect(sha256(await h.getObject(first.key))).toBe(first.sha256);
    expect(sha256(await h.getObject(second.key))).toBe(second.sha256);
    expect(await h.engine.s3?.listOpenUploads(BUCKET)).toEqual([]);
  });
});
