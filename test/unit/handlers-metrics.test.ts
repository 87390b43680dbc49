import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clearCaches } from '@aws-lambda-powertools/parameters';
import { PutObjectCommand, PutObjectTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WorkflowState } from '../../lambdas/contracts/state';
import { pceClients } from '../../lambdas/export/pce-clients';
import { handler as fetchHandler } from '../../lambdas/handlers/fetch';
import { handler as pollHandler } from '../../lambdas/handlers/poll';
import { appendKeys, lambdaHandler } from '../../lambdas/handlers/powertools';
import { handler as submitHandler } from '../../lambdas/handlers/submit';
import { datafileClient } from '../support/fake-pce';
import { stubConfigurationObject, stubExportEnv } from '../support/handler-env';
import { capturedLines, jsonLines } from '../support/output';

const { createPceClient } = vi.hoisted(() => ({ createPceClient: vi.fn() }));
vi.mock('../../lambdas/pce/client', () => ({ createPceClient }));

const secretsMock = mockClient(SecretsManagerClient);
const s3Mock = mockClient(S3Client);

const API_KEY = 'api_3c1d9e';
const API_SECRET = 'Metr1csMustN0tCarryThis-4b2a';
const JOB = '/orgs/7/jobs/1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9';
const DATAFILE = '/orgs/7/datafiles/9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a';
const BODY =
  '[{"href":"/orgs/7/labels/1","key":"role","value":"web"},{"href":"/orgs/7/labels/2","key":"env","value":"prod"},{"href":"/orgs/7/labels/3","key":"loc","value":"zrh"}]';
const STARTED = '2026-03-04T05:06:07.000Z';
const execution = { name: 'run-7', startTime: STARTED };
const CONFIGURATION = JSON.stringify({
  exports: { labels: { path: '/labels', format: 'ndjson', gzip: true } },
  snapshots: {},
});
const CONFIGURATION_KEY = 'pce/_pce-export/exports-metrics.json';

let pce = datafileClient(BODY);

interface EmfDocument {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [field: string]: unknown;
}

let lines: string[] = [];

/** The EMF documents written to stdout: the JSON lines that carry `_aws`. */
function emf(): EmfDocument[] {
  return jsonLines(lines).filter((parsed): parsed is EmfDocument => '_aws' in parsed);
}

function metricNames(document: EmfDocument): string[] {
  return document._aws.CloudWatchMetrics.flatMap((set) => set.Metrics.map((metric) => metric.Name));
}

beforeEach(async () => {
  await pceClients.clear();
  clearCaches();
  secretsMock.reset();
  s3Mock.reset();
  stubExportEnv();
  vi.stubEnv('PCE_NAME', 'onprem');
  stubConfigurationObject(s3Mock, CONFIGURATION_KEY, CONFIGURATION);
  secretsMock
    .on(GetSecretValueCommand)
    .resolves({ SecretString: JSON.stringify({ apiKey: API_KEY, apiSecret: API_SECRET }) });
  s3Mock.on(PutObjectCommand).resolves({ ETag: '"e1"' });
  s3Mock.on(PutObjectTaggingCommand).resolves({});

  pce = datafileClient(BODY);
  pce.collections.submit.mockResolvedValue({ jobHref: JOB, retryAfterSeconds: 3 });
  createPceClient.mockReset().mockImplementation(() => pce);
  lines = capturedLines();
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

async function exportLabels(): Promise<{
  output: Awaited<ReturnType<typeof fetchHandler>>;
  polled: WorkflowState;
}> {
  pce.collections.poll
    .mockResolvedValueOnce({ status: 'running', retryAfterSeconds: 2 })
    .mockResolvedValueOnce({ status: 'done', retryAfterSeconds: 2, resultHref: DATAFILE });
  const submitted = await submitHandler({ input: { exportName: 'labels' }, execution });
  if (!('job' in submitted)) throw new Error(`the PCE did not take the job: ${JSON.stringify(submitted)}`);
  const polled = await pollHandler(await pollHandler(submitted));
  return { output: await fetchHandler(polled), polled };
}

describe("Fetch's metrics for an export it stored", () => {
  it('publishes Bytes, Objects, Polls and Duration in the pce-export namespace', async () => {
    const { output } = await exportLabels();
    if (!('key' in output)) throw new Error(`Fetch did not store the export: ${JSON.stringify(output)}`);

    const documents = emf().filter((document) => metricNames(document).includes('Bytes'));
    expect(documents).toHaveLength(1);
    const [document] = documents as [EmfDocument];
    expect(metricNames(document)).toEqual(expect.arrayContaining(['Bytes', 'Objects', 'Polls', 'Duration']));
    expect(document._aws.CloudWatchMetrics[0]?.Namespace).toBe('pce-export');
    const units = Object.fromEntries(
      document._aws.CloudWatchMetrics.flatMap((set) =>
        set.Metrics.map((metric) => [metric.Name, metric.Unit]),
      ),
    );
    expect(units).toMatchObject({ Bytes: 'Bytes', Objects: 'Count', Polls: 'Count', Duration: 'Seconds' });
    expect(document).toMatchObject({
      Bytes: output.bytes,
      Objects: 3,
      Polls: 2,
      Duration: (Date.parse(output.completedAt) - Date.parse(STARTED)) / 1000,
    });
    expect(output.bytes).toBeGreaterThan(0);
  });

  it("carries the export's and the PCE's names as dimensions", async () => {
    await exportLabels();

    const [document] = emf().filter((entry) => metricNames(entry).includes('Bytes'));
    expect(document).toMatchObject({ export: 'labels', pce: 'onprem' });
    const dimensions = document?._aws.CloudWatchMetrics.flatMap((set) => set.Dimensions.flat()) ?? [];
    expect(dimensions).toEqual(expect.arrayContaining(['export', 'pce']));
  });

  it('names an unnamed PCE "default"', async () => {
    vi.stubEnv('PCE_NAME', '');
    await exportLabels();

    const [document] = emf().filter((entry) => metricNames(entry).includes('Bytes'));
    expect(document).toMatchObject({ export: 'labels', pce: 'default' });
  });

  it('never writes the API key or secret into a metric document', async () => {
    await exportLabels();

    const documents = emf();
    expect(documents.length).toBeGreaterThan(0);
    for (const document of documents) {
      const text = JSON.stringify(document);
      expect(text).not.toContain(API_SECRET);
      expect(text).not.toContain(API_KEY);
    }
  });
});

describe('PCE request metrics', () => {
  let server: Server;
  let origin: string;
  let answers: number[] = [];

  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.statusCode = answers.shift() ?? 200;
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('counts the requests an invocation makes and the retries among them, by export and PCE', async () => {
    answers = [503, 200, 200];
    const handler = lambdaHandler('Poll', async () => {
      appendKeys({ exportName: 'workloads' });
      for (const path of ['/api/v2/orgs/7/jobs/1', '/api/v2/orgs/7/jobs/1', '/api/v2/orgs/7/labels']) {
        const response = await request(`${origin}${path}`);
        await response.body.text();
      }
      return 'done';
    });

    await expect(handler({})).resolves.toBe('done');

    const documents = emf().filter((document) => metricNames(document).includes('PceRequests'));
    expect(documents).toHaveLength(1);
    expect(documents[0]).toMatchObject({ PceRequests: 3, PceRetries: 1, export: 'workloads', pce: 'onprem' });
  });

  it('publishes nothing for an invocation that neither talks to the PCE nor stores an export', async () => {
    const handler = lambdaHandler('Snapshot', async () => 'quiet');

    await handler({});

    expect(emf()).toEqual([]);
  });
});
