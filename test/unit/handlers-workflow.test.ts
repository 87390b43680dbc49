import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { clearCaches } from '@aws-lambda-powertools/parameters';
import { GetObjectCommand, PutObjectCommand, PutObjectTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExportConfigError } from '../../lambdas/contracts/errors';
import type { WorkflowState } from '../../lambdas/contracts/state';
import { pceClients } from '../../lambdas/export/pce-clients';
import { handler as fetchHandler } from '../../lambdas/handlers/fetch';
import { handler as pollHandler } from '../../lambdas/handlers/poll';
import { handler as submitHandler } from '../../lambdas/handlers/submit';
import type { PollResult } from '../../lambdas/pce/jobs';
import { datafileClient } from '../support/fake-pce';
import { stubConfigurationObject, stubExportEnv } from '../support/handler-env';
import { capturedLines, jsonLines } from '../support/output';

const { createPceClient } = vi.hoisted(() => ({ createPceClient: vi.fn() }));
vi.mock('../../lambdas/pce/client', () => ({ createPceClient }));

const secretsMock = mockClient(SecretsManagerClient);
const s3Mock = mockClient(S3Client);

const API_SECRET = 'Sup3rS3cretValue-9f8e7d';
const JOB = '/orgs/7/jobs/8f3c0a52-1d8e-4a3e-9f4b-2c1d0e9f8a7b';
const DATAFILE = '/orgs/7/datafiles/5a1f6d2e-7c3b-4e8a-b9d0-1f2e3d4c5b6a';
const BODY =
  '[{"href":"/orgs/7/labels/1","key":"role","value":"web"},{"href":"/orgs/7/labels/2","key":"env","value":"prod"}]';
const execution = { name: 'run-42', startTime: '2026-03-04T05:06:07.000Z' };
/** The deployment's configuration object, as the stack writes it. */
const CONFIGURATION = JSON.stringify({
  exports: { labels: { path: '/labels', format: 'ndjson', gzip: true } },
  snapshots: {},
});
const CONFIGURATION_KEY = 'pce/_pce-export/exports-test.json';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let pce = datafileClient(BODY);

let logLines: string[] = [];

function secret(value: unknown): void {
  secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(value) });
}

/** Submit's state once the PCE took the job (not the state of a submit to make again). */
function jobState(state: Awaited<ReturnType<typeof submitHandler>>): WorkflowState {
  if (!('job' in state)) throw new Error(`the PCE did not take the job: ${JSON.stringify(state)}`);
  return state;
}

function pollReturns(...results: Partial<PollResult>[]): void {
  for (const result of results)
    pce.collections.poll.mockResolvedValueOnce({ status: 'running', retryAfterSeconds: 2, ...result });
}

/** The log lines: JSON on stdout, without the EMF metric documents (which carry `_aws`). */
function logs(): Record<string, unknown>[] {
  return jsonLines(logLines).filter((parsed) => !('_aws' in parsed));
}

beforeEach(async () => {
  await pceClients.clear();
  clearCaches();
  secretsMock.reset();
  s3Mock.reset();
  stubExportEnv();
  vi.stubEnv('RETRY_AFTER_MAX_SECONDS', '120');
  stubConfigurationObject(s3Mock, CONFIGURATION_KEY, CONFIGURATION);

  secret({ apiKey: 'api_7f00d', apiSecret: API_SECRET });
  s3Mock.on(PutObjectCommand).resolves({ ETag: '"e1"' });
  s3Mock.on(PutObjectTaggingCommand).resolves({});

  pce = datafileClient(BODY);
  pce.collections.submit.mockResolvedValue({ jobHref: JOB, retryAfterSeconds: 3 });
  createPceClient.mockReset().mockImplementation(() => pce);
  logLines = capturedLines();
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('the handlers called as plain functions, without a Lambda context', () => {
  it('run Submit, Poll until done, and Fetch to an object in S3', async () => {
    pollReturns({ status: 'running' }, { status: 'done', resultHref: DATAFILE });

    const submitted = jobState(await submitHandler({ input: { exportName: 'labels' }, execution }));
    const polled = await pollHandler(submitted);
    const done = await pollHandler(polled);
    const output = await fetchHandler(done);
    if (!('key' in output)) throw new Error(`Fetch did not store the export: ${JSON.stringify(output)}`);

    expect(submitted.job).toMatchObject({ href: JOB, status: 'pending', polls: 0, waitSeconds: 3 });
    expect(polled.job).toMatchObject({ status: 'running', polls: 1, timedOut: false });
    expect(done.job).toMatchObject({ status: 'done', polls: 2, resultHref: DATAFILE });
    expect(output).toMatchObject({
      exportName: 'labels',
      bucket: 'exports-bucket',
      key: 'pce/labels/dt=2026-03-04/050607Z_run-42.ndjson.gz',
      uri: 's3://exports-bucket/pce/labels/dt=2026-03-04/050607Z_run-42.ndjson.gz',
      objectCount: 2,
      polls: 2,
      manifestKey: 'pce/labels/_manifests/dt=2026-03-04/050607Z_run-42.manifest.json',
    });
    const stored = s3Mock.commandCalls(PutObjectCommand).find((c) => c.args[0].input.Key === output.key);
    expect(
      gunzipSync(Buffer.from(stored?.args[0].input.Body as Uint8Array))
        .toString()
        .split('\n'),
    ).toHaveLength(3);
    expect(pce.collections.delete).toHaveBeenCalledWith(JOB);
  });

  it('connect with the secret and the Retry-After bounds from the environment, reusing one client', async () => {
    pollReturns({ status: 'done', resultHref: DATAFILE });

    const state = await submitHandler({ input: { path: '/labels' }, execution });
    await fetchHandler(await pollHandler(state));

    expect(createPceClient).toHaveBeenCalledTimes(1);
    expect(createPceClient).toHaveBeenCalledWith(
      { baseUrl: 'https://pce.example.com:8443', orgId: 7, apiKey: 'api_7f00d', apiSecret: API_SECRET },
      { retryAfter: { minSeconds: 1, maxSeconds: 120, defaultSeconds: 5 } },
    );
  });

  it('replace the client when the secret is rotated', async () => {
    await submitHandler({ input: { path: '/labels' }, execution });
    secret({ apiKey: 'api_7f00d', apiSecret: 'rotated-secret' });

    await submitHandler({ input: { path: '/labels' }, execution });

    expect(createPceClient).toHaveBeenCalledTimes(2);
    expect(pce.close).toHaveBeenCalledTimes(1);
  });

  it('accept a Lambda context and add it to the log lines', async () => {
    const context = {
      functionName: 'submit-fn',
      awsRequestId: 'req-1',
      invokedFunctionArn: 'arn:x',
      memoryLimitInMB: '512',
    };

    await submitHandler({ input: { path: '/labels' }, execution }, context as never);

    expect(logs().find((l) => l.message === 'Submitted PCE async job')).toMatchObject({
      function_request_id: 'req-1',
    });
  });
});

describe('Submit handler', () => {
  it('rejects bad input with ExportConfigError before reading the secret or contacting the PCE', async () => {
    const error = await submitHandler({ input: { path: '/labels?x=1' }, execution }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ExportConfigError);
    expect((error as Error).message).toContain('input.path');
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(createPceClient).not.toHaveBeenCalled();
  });

  it('fails with ExportConfigError while the secret still holds the placeholder, sending nothing', async () => {
    secret({ apiKey: 'api_REPLACE_ME', apiSecret: 'REPLACE_ME' });

    const error = await submitHandler({ input: { path: '/labels' }, execution }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ExportConfigError);
    expect((error as Error).message).toContain('Secret pce-export/api-key still holds the placeholder');
    expect(pce.collections.submit).not.toHaveBeenCalled();
  });

  it('names a missing environment variable', async () => {
    vi.stubEnv('PCE_URL', '');

    await expect(submitHandler({ input: { path: '/labels' }, execution })).rejects.toThrow(/PCE_URL/);
    expect(pce.collections.submit).not.toHaveBeenCalled();
  });

  it('never uses a configuration object that does not hash to the deployed sha256, and says so', async () => {
    const deployed = JSON.stringify({ exports: { labels: { path: '/labels' } }, snapshots: {} });
    stubConfigurationObject(
      s3Mock,
      CONFIGURATION_KEY,
      deployed.replace('/labels', '/workloads'),
      sha256(deployed),
    );

    await expect(submitHandler({ input: { exportName: 'labels' }, execution })).rejects.toThrow(
      /s3:\/\/exports-bucket\/pce\/_pce-export\/exports-test\.json does not hash to the sha256/,
    );
    expect(pce.collections.submit).not.toHaveBeenCalled();
  });

  it('reads no configuration object for an input that names no export', async () => {
    pce.collections.submit.mockResolvedValueOnce({ jobHref: JOB, retryAfterSeconds: 3 });

    await submitHandler({ input: { path: '/labels' }, execution });

    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
  });
});

describe('Poll handler', () => {
  async function submitted(): Promise<WorkflowState> {
    return jobState(await submitHandler({ input: { path: '/labels', maxWaitSeconds: 60 }, execution }));
  }

  it('rejects a state whose job belongs to another org without polling', async () => {
    const state = await submitted();

    const error = await pollHandler({ ...state, job: { ...state.job, href: '/orgs/8/jobs/x' } }).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(ExportConfigError);
    expect(pce.collections.poll).not.toHaveBeenCalled();
  });

  it('reports a failed job for the Choice state', async () => {
    pollReturns({ status: 'failed', message: 'Filter not supported' });

    const next = await pollHandler(await submitted());

    expect(next.job).toMatchObject({
      status: 'failed',
      message: `PCE job ${JOB} failed: Filter not supported`,
    });
  });

  it('honours MAX_POLLS from the environment', async () => {
    vi.stubEnv('MAX_POLLS', '1');
    pollReturns({ status: 'running' });

    const next = await pollHandler(await submitted());

    expect(next.job.timedOut).toBe(true);
  });
});

describe('Fetch handler', () => {
  it('refuses a job that is not done', async () => {
    const state = await submitHandler({ input: { path: '/labels' }, execution });

    await expect(fetchHandler(state)).rejects.toBeInstanceOf(ExportConfigError);
    expect(pce.collections.open).not.toHaveBeenCalled();
  });

  it('names EXPORT_BUCKET when it is missing', async () => {
    pollReturns({ status: 'done', resultHref: DATAFILE });
    const done = await pollHandler(await submitHandler({ input: { path: '/labels' }, execution }));
    vi.stubEnv('EXPORT_BUCKET', '');

    await expect(fetchHandler(done)).rejects.toThrow(/EXPORT_BUCKET/);
  });
});

describe('logging', () => {
  it('tags every line of an invocation with exportName, executionName and jobHref', async () => {
    pollReturns({ status: 'done', resultHref: DATAFILE });

    await fetchHandler(
      await pollHandler(await submitHandler({ input: { exportName: 'labels' }, execution })),
    );

    const lines = logs();
    expect(lines.length).toBeGreaterThan(4);
    for (const line of lines) {
      expect(line).toMatchObject({ exportName: 'labels', executionName: 'run-42', jobHref: JOB });
    }
  });

  it('never writes the API secret or the Authorization value', async () => {
    pollReturns({ status: 'done', resultHref: DATAFILE });
    await fetchHandler(await pollHandler(await submitHandler({ input: { path: '/labels' }, execution })));
    secret({ apiKey: 'api_7f00d', apiSecret: 'REPLACE_ME' });
    await submitHandler({ input: { path: '/labels' }, execution }).catch(() => undefined);

    const output = logLines.join('\n');
    expect(logLines.length).toBeGreaterThan(0);
    expect(output).not.toContain(API_SECRET);
    expect(output).not.toContain(Buffer.from(`api_7f00d:${API_SECRET}`).toString('base64'));
  });

  it('does not carry keys over from the previous invocation', async () => {
    await submitHandler({ input: { exportName: 'labels' }, execution });
    logLines.length = 0;

    await submitHandler({
      input: { path: '/bogus?' },
      execution: { name: 'run-43', startTime: execution.startTime },
    }).catch(() => undefined);

    const failure = logs().find((l) => l.message === 'Submit failed');
    expect(failure).toMatchObject({ executionName: 'run-43' });
    expect(failure).not.toHaveProperty('jobHref');
    expect(failure).not.toHaveProperty('exportName');
  });
});
