import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BUCKET, failed, type Harness, startHarness } from './harness';

const ROOT = join(import.meta.dirname, '..', '..');

describe('faults of the AWS stand-ins, met by the real handlers', () => {
  let h: Harness;

  beforeAll(async () => {
    // The workloads are about 6.5 MB of raw JSON: two parts of 5 MiB.
    h = await startHarness({ jobDurationMs: 300, dataset: { labels: 20, workloads: 4_000 } });
  });
  afterEach(() => h.reset());
  afterAll(async () => {
    await h?.close();
  });

  const exportLabels = () =>
    h.run(
      { exportName: 'labels', path: '/labels' },
      { retryIntervalOverrides: { Submit: 0, Poll: 0, Fetch: 0, NotifySucceeded: 0 } },
    );

  it('stores the export when S3 answers one write with SlowDown, which the SDK retries', async () => {
    h.engine.faults.s3?.inject(
      { operation: ['PutObject', 'UploadPart'], key: 'pce/labels/*' },
      { code: 'SlowDown' },
    );

    const outcome = await exportLabels();

    expect(outcome.status).toBe('SUCCEEDED');
    expect(h.engine.faults.s3?.delivered).toHaveLength(1);
  });

  it('reads the secret when Secrets Manager throttles once, which the SDK retries', async () => {
    h.engine.faults.secrets.inject({}, { code: 'ThrottlingException' });

    const outcome = await exportLabels();

    expect(outcome.status).toBe('SUCCEEDED');
    expect(h.engine.faults.secrets.delivered).toHaveLength(1);
  });

  it('retries a Poll the Lambda service fails with ServiceException, as the definition says', async () => {
    h.engine.faults.lambda.inject({ state: 'Poll' }, { error: 'Lambda.ServiceException' });

    const outcome = await exportLabels();

    expect(outcome.status).toBe('SUCCEEDED');
    expect(h.engine.faults.lambda.delivered.map((d) => d.request)).toEqual([
      { functionId: expect.stringMatching(/^WorkflowPollFunction/), handler: 'poll', state: 'Poll' },
    ]);
  });

  it('fails each attempt of a notification EventBridge refuses, with the attempts in the history', async () => {
    h.engine.faults.events.inject({ detailType: 'Export Succeeded' }, { kind: 'service' }, { times: 10 });

    const outcome = await exportLabels();

    expect(h.engine.faults.events.delivered.length).toBeGreaterThan(1);
    expect(outcome.history.byType.TaskFailed).toBe(h.engine.faults.events.delivered.length);
  });

  const exportWorkloads = () =>
    h.run(
      { exportName: 'big', path: '/workloads', format: 'raw', gzip: false },
      {
        env: { UPLOAD_PART_SIZE_MIB: '5' },
        retryIntervalOverrides: { Submit: 0, Poll: 0, Fetch: 0, NotifySucceeded: 0, NotifyFailed: 0 },
        waitTimeOverrides: { WaitToFetch: 0 },
      },
    );

  it.each([
    ['UploadPart', 'SlowDown', false, 503, 'Please reduce your request rate.'],
    [
      'CompleteMultipartUpload',
      'InternalError',
      false,
      500,
      'We encountered an internal error. Please try again.',
    ],
    // The SDK turns an error in a 200 OK into a 503, retried.
    [
      'CompleteMultipartUpload',
      'InternalError',
      true,
      503,
      'We encountered an internal error. Please try again.',
    ],
  ] as const)(
    'fails with ExportStorageError naming S3 code and request id when %s answers %s (in a 200 OK: %s), leaving nothing behind',
    async (operation, code, inOkResponse, status, message) => {
      const requestId = `${code.toUpperCase()}0000000042`;
      h.engine.faults.s3?.inject(
        { operation, key: 'pce/big/*' },
        { code, requestId, inOkResponse },
        { times: Number.POSITIVE_INFINITY },
      );

      const { error, cause } = failed(await exportWorkloads());

      expect(error).toBe('ExportStorageError');
      expect(cause).toMatch(/^Writing s3:\/\/exports\/pce\/big\/dt=[\d-]+\/\d{6}Z_[\w-]+\.json failed: /);
      expect(cause).toContain(`${code}: ${message} (HTTP ${status}, request id ${requestId})`);
      expect(cause).not.toMatch(/AbortError|Premature close/);
      for (const secret of [h.simulator.credentials.apiSecret, process.env.AWS_SECRET_ACCESS_KEY ?? '']) {
        if (secret !== '') expect(cause).not.toContain(secret);
      }
      expect(h.engine.faults.s3?.delivered.length).toBeGreaterThan(0);
      expect(await h.listKeys('pce/big/')).toEqual([]);
      expect(await h.engine.s3?.listOpenUploads(BUCKET)).toEqual([]);
    },
  );

  it('deletes an object it cannot tag and fails with ExportStorageError, leaving nothing at the key', async () => {
    h.engine.faults.s3?.inject(
      { operation: 'PutObjectTagging', key: 'pce/big/*' },
      { code: 'AccessDenied', requestId: 'TAGGING0000000042' },
      { times: Number.POSITIVE_INFINITY },
    );

    const { error, cause } = failed(await exportWorkloads());

    expect(error).toBe('ExportStorageError');
    expect(cause).toMatch(
      /^S3 failed tagging s3:\/\/exports\/pce\/big\/dt=[\d-]+\/\d{6}Z_[\w-]+\.json \(the object was removed again\): /,
    );
    expect(cause).toContain('AccessDenied: Access Denied (HTTP 403, request id TAGGING0000000042)');
    // Every Fetch attempt (the first and the definition's storage retries) tagged, then deleted.
    const atKey = (h.engine.s3?.requests ?? []).filter((r) => r.key.startsWith('pce/big/dt='));
    const tagged = atKey.filter((r) => r.operation === 'PutObjectTagging').length;
    expect(tagged).toBeGreaterThan(1);
    expect(atKey.filter((r) => r.operation === 'DeleteObject')).toHaveLength(tagged);
    expect(await h.listKeys('pce/big/')).toEqual([]);
    expect(await h.engine.s3?.listOpenUploads(BUCKET)).toEqual([]);
  });

  it('stores the export when tagging fails once: the retried Fetch writes and tags the object again', async () => {
    h.engine.faults.s3?.inject({ operation: 'PutObjectTagging', key: 'pce/big/*' }, { code: 'AccessDenied' });

    const outcome = await exportWorkloads();

    expect(outcome.status).toBe('SUCCEEDED');
    const operations = (h.engine.s3?.requests ?? [])
      .filter(
        (r) => r.key.startsWith('pce/big/dt=') && ['PutObjectTagging', 'DeleteObject'].includes(r.operation),
      )
      .map((r) => r.operation);
    expect(operations).toEqual(['PutObjectTagging', 'DeleteObject', 'PutObjectTagging']);
    const stored = (await h.listKeys('pce/big/dt=')).filter((key) => !key.endsWith('.manifest.json'));
    expect(stored).toHaveLength(1);
  });
});

/** Runs an engine in a process of its own, whose Submit handler is `submit` (JavaScript source). */
function runWithSubmit(submit: string): { error?: string; cause?: string } {
  const script = `
    import { startLocalEngine } from ${JSON.stringify(join(ROOT, 'local/engine.ts'))};
    const engine = await startLocalEngine({ s3: { embedded: true, bucket: 'b' }, handlers: { submit: ${submit} } });
    const pce = { url: 'https://127.0.0.1:9', orgId: 1, apiKey: 'api_x', apiSecret: 'x' };
    const outcome = await engine.run({ pce, bucket: 'b', input: { path: '/labels' } });
    await engine.close();
    process.stdout.write(JSON.stringify(outcome) + '\\n');
  `;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 600_000,
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  const line = child.stdout.trim().split('\n').at(-1) ?? '';
  if (!line.startsWith('{')) throw new Error(`the engine process printed no outcome: ${child.stderr}`);
  return JSON.parse(line) as { error?: string; cause?: string };
}

describe('a function that crashes', () => {
  // The definition names every error it does not know ExportInternalError, the original in the cause.
  it('fails with Runtime.UnhandledPromiseRejection when a promise it left behind rejects', () => {
    const outcome = runWithSubmit(
      `async () => { void Promise.reject(new Error('lost')); await new Promise((r) => setTimeout(r, 5000)); return {}; }`,
    );

    expect(outcome.error).toBe('ExportInternalError');
    expect(outcome.cause).toBe('Runtime.UnhandledPromiseRejection: Error: lost');
  });

  it('fails with the error of an exception thrown outside its promise chain', () => {
    const outcome = runWithSubmit(
      `async () => { setTimeout(() => { throw new RangeError('out of range'); }, 10); await new Promise((r) => setTimeout(r, 5000)); return {}; }`,
    );

    expect(outcome.error).toBe('ExportInternalError');
    expect(outcome.cause).toBe('RangeError: out of range');
  });
});
