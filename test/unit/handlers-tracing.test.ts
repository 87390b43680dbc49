import { createSocket, type Socket } from 'node:dgram';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { appendKeys, lambdaHandler, traceClient } from '../../lambdas/handlers/powertools';

/*
 * The Tracer loads on the first invocation that X-Ray traces, in a Lambda-like environment: a
 * trace header from the Lambda service and a daemon address, here a UDP socket on loopback that
 * collects what the X-Ray SDK sends.
 */

const TRACE_ID = '1-67a1b2c3-0123456789abcdef01234567';

interface Subsegment {
  name: string;
  id: string;
  parent_id?: string;
  namespace?: string;
  annotations?: Record<string, unknown>;
  http?: { request?: { url?: string; method?: string }; response?: { status?: number } };
  aws?: Record<string, unknown>;
  subsegments?: Subsegment[];
}

/** Registered before the Tracer is loaded, as the handler modules do at their initialisation. */
let secrets: SecretsManagerClient;
let daemon: Socket;
let pce: Server;
let origin: string;
let status: number;
const documents: Subsegment[] = [];
const requestHeaders: IncomingHttpHeaders[] = [];

/** Every subsegment sent so far, nested ones included. */
function sent(): Subsegment[] {
  const all: Subsegment[] = [];
  const walk = (segment: Subsegment) => {
    all.push(segment);
    for (const child of segment.subsegments ?? []) walk(child);
  };
  for (const document of documents) walk(document);
  return all;
}

async function until(check: () => boolean): Promise<void> {
  await vi.waitFor(() => {
    if (!check()) throw new Error('nothing sent yet');
  });
}

beforeAll(async () => {
  daemon = createSocket('udp4');
  daemon.on('message', (message) => {
    // A header line, then the (sub)segment.
    const [, body] = message.toString('utf8').split('\n');
    if (body) documents.push(JSON.parse(body) as Subsegment);
  });
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
  pce = createServer((req, res) => {
    if (req.headers['x-amz-target'] === 'secretsmanager.GetSecretValue') {
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      res.end('{"Name":"pce-export/api-key","SecretString":"{}"}');
      return;
    }
    requestHeaders.push(req.headers);
    res.setHeader('content-type', 'application/json');
    res.end('{"status":"running"}');
  });
  await new Promise<void>((resolve) => pce.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(pce.address() as AddressInfo).port}`;

  vi.stubEnv('AWS_EXECUTION_ENV', 'AWS_Lambda_nodejs20.x');
  vi.stubEnv('LAMBDA_TASK_ROOT', '/var/task');
  vi.stubEnv('_HANDLER', 'index.handler');
  vi.stubEnv('_X_AMZN_TRACE_ID', `Root=${TRACE_ID};Parent=53995c3f42cd8ad8;Sampled=1`);
  vi.stubEnv('AWS_XRAY_DAEMON_ADDRESS', `127.0.0.1:${daemon.address().port}`);
  vi.stubEnv('AWS_XRAY_CONTEXT_MISSING', 'IGNORE_ERROR');
  vi.stubEnv('POWERTOOLS_TRACE_ENABLED', 'true');
  vi.stubEnv('PCE_NAME', 'onprem');
  secrets = traceClient(
    new SecretsManagerClient({
      region: 'eu-west-1',
      endpoint: origin,
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
    }),
  );

  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const handler = lambdaHandler('Poll', async () => {
    appendKeys({ exportName: 'labels' });
    await secrets.send(new GetSecretValueCommand({ SecretId: 'pce-export/api-key' }));
    const response = await request(`${origin}/api/v2/orgs/7/jobs/42`);
    await response.body.text();
    return response.statusCode;
  });
  status = await handler({});
  await until(() => sent().some((segment) => segment.name === '## index.handler'));
});

afterAll(async () => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  secrets.destroy();
  await new Promise((resolve) => pce.close(resolve));
  await new Promise<void>((resolve) => daemon.close(() => resolve()));
});

describe('X-Ray tracing of a traced invocation', () => {
  it('opens a subsegment, named by the PCE host, for each PCE request, with its URL and status', async () => {
    expect(status).toBe(200);
    const remote = sent().filter((segment) => segment.namespace === 'remote');
    expect(remote).toHaveLength(1);
    expect(remote[0]).toMatchObject({
      name: '127.0.0.1',
      http: {
        request: { url: 'http://127.0.0.1/api/v2/orgs/7/jobs/42', method: 'GET' },
        response: { status: 200 },
      },
    });
  });

  it("nests the PCE request's subsegment in the handler's, annotated with the export and the PCE", async () => {
    const handlerSegment = sent().find((segment) => segment.name === '## index.handler');
    expect(handlerSegment).toBeDefined();
    expect(handlerSegment?.annotations).toMatchObject({ export: 'labels', pce: 'onprem' });
    const remote = sent().find((segment) => segment.namespace === 'remote');
    const nested = handlerSegment?.subsegments?.some((child) => child.id === remote?.id);
    expect(nested || remote?.parent_id === handlerSegment?.id).toBe(true);
  });

  it('opens a subsegment for each call of an AWS SDK client handed to traceClient', () => {
    const aws = sent().filter((segment) => segment.namespace === 'aws');
    expect(aws.map((segment) => segment.name)).toEqual(['SecretsManager']);
    expect(aws[0]).toMatchObject({ aws: { operation: 'GetSecretValue' } });
  });

  it("passes the trace on to the PCE in the request's X-Amzn-Trace-Id header", () => {
    expect(requestHeaders).toHaveLength(1);
    expect(requestHeaders[0]?.['x-amzn-trace-id']).toMatch(
      new RegExp(`^Root=${TRACE_ID};Parent=[0-9a-f]{16};Sampled=1$`),
    );
  });
});
