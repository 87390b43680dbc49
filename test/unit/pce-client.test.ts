import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { gzipSync } from 'node:zlib';
import { MockAgent, errors as undiciErrors } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ExportConfigError } from '../../lambdas/contracts/errors';
import type { PceClient } from '../../lambdas/pce/client';
import { createPceClient, type PceClientRuntime } from '../../lambdas/pce/client';
import {
  PceAuthError,
  PceProtocolError,
  PceRateLimited,
  PceRequestError,
  PceUnavailable,
} from '../../lambdas/pce/errors';
import type { PceClientOptions, PceConnection } from '../../lambdas/pce/types';
import { TOOL_VERSION } from '../../lambdas/version';
import { collect, failure } from '../support/async';
import { createTestCa } from '../support/tls';

const ORIGIN = 'https://pce.example.com:8443';
const KEY = 'api_0123456789abcdef';
const SECRET = 'Zs3cr3t-value-9f8e7d6c5b4a';
const BASIC = Buffer.from(`${KEY}:${SECRET}`).toString('base64');
const JOB_ID = 'd1775367-1951-4707-aa2e-37a0b9076d31';
const JOB = `/orgs/1/jobs/${JOB_ID}`;
const DATAFILE = '/orgs/1/datafiles/5b5fd2a8-8cf4-4b38-9b0a-1b2a3c4d5e6f';
const JSON_HEADERS = { 'content-type': 'application/json' };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  vi.useRealTimers();
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** A MockAgent that refuses real network access and records every request made through it. */
function mockPce() {
  const agent = new MockAgent({ enableCallHistory: true });
  agent.disableNetConnect();
  cleanups.push(() => agent.close());
  return {
    agent,
    pce: agent.get(ORIGIN),
    calls: () => agent.getCallHistory()?.calls() ?? [],
  };
}

/** The headers a recorded request was sent with. */
function sentHeaders(call: { headers?: unknown } | undefined): Record<string, string> {
  return (call?.headers ?? {}) as Record<string, string>;
}

function mockClient(
  agent: MockAgent,
  options: PceClientOptions = {},
  runtime: PceClientRuntime = {},
  connection: Partial<PceConnection> = {},
): PceClient {
  return createPceClient(
    { baseUrl: ORIGIN, orgId: 1, apiKey: KEY, apiSecret: SECRET, ...connection },
    { dispatcher: agent, ...options },
    runtime,
  );
}

interface Loopback {
  readonly origin: string;
  readonly requests: http.IncomingMessage[];
  connections: number;
}

/** A server on 127.0.0.1 (HTTP, or HTTPS with the given key and certificate), closed after the test. */
async function serve(handler: http.RequestListener, tls?: { key: string; cert: string }): Promise<Loopback> {
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  const loopback: Loopback = { origin: '', requests: [], connections: 0 };
  server.on('connection', () => {
    loopback.connections++;
  });
  server.on('request', (req: http.IncomingMessage) => loopback.requests.push(req));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return Object.assign(loopback, { origin: `${tls ? 'https' : 'http'}://127.0.0.1:${port}` });
}

function loopbackClient(origin: string, options: PceClientOptions = {}, caBundle?: string): PceClient {
  const client = createPceClient(
    { baseUrl: origin, orgId: 1, apiKey: KEY, apiSecret: SECRET, caBundle },
    options,
  );
  cleanups.push(() => client.close());
  return client;
}

/** Asserts that neither the secret nor the Basic credential appears anywhere an error can be printed. */
function expectNoCredentials(error: unknown): void {
  const texts = [String(error), JSON.stringify(error), inspect(error, { depth: 10, showHidden: true })];
  let cause = (error as Error).cause;
  for (let depth = 0; cause !== undefined && depth < 10; depth++) {
    texts.push(String(cause), JSON.stringify(cause) ?? '', (cause as Error).stack ?? '');
    cause = (cause as Error).cause;
  }
  for (const text of texts) {
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(BASIC);
  }
}

function job(status: string, extra: Record<string, unknown> = {}) {
  return {
    href: JOB,
    job_type: ':illumio/async_requests',
    description: '/orgs/1/labels',
    status,
    result: {},
    requested_at: '2016-01-14 23:16:52.303166',
    requested_by: { href: '/users/1' },
    ...extra,
  };
}

function replyJob(
  pce: ReturnType<typeof mockPce>['pce'],
  body: unknown,
  headers: Record<string, string> = {},
) {
  pce
    .intercept({ path: `/api/v2${JOB}`, method: 'GET' })
    .reply(200, JSON.stringify(body), { headers: { ...JSON_HEADERS, ...headers } });
}

function sleepRecorder() {
  const waits: number[] = [];
  const runtime: PceClientRuntime = {
    sleep: async (ms) => {
      waits.push(ms);
    },
  };
  return { waits, runtime };
}

describe('submit', () => {
  it('sends an async GET with Basic auth, Prefer, Accept and User-Agent and returns the job href', async () => {
    const { agent, pce, calls } = mockPce();
    pce
      .intercept({ path: '/api/v2/orgs/1/labels', method: 'GET' })
      .reply(202, '', { headers: { location: JOB, 'retry-after': '7' } });

    const result = await mockClient(agent).collections.submit({ path: '/labels' });

    expect(result).toEqual({ jobHref: JOB, retryAfterSeconds: 7 });
    const headers = sentHeaders(calls()[0]);
    expect(headers.authorization).toBe(`Basic ${BASIC}`);
    expect(headers.prefer).toBe('respond-async');
    expect(headers.accept).toBe('application/json');
    expect(headers['user-agent']).toBe(`pce-export/${TOOL_VERSION} (+node/${process.versions.node})`);
    expect(headers['accept-encoding']).toBeUndefined();
  });

  it('sends the query as the filter of the collection', async () => {
    const { agent, pce, calls } = mockPce();
    pce
      .intercept({
        path: '/api/v2/orgs/1/workloads',
        query: { managed: 'true', max_results: '5' },
        method: 'GET',
      })
      .reply(202, '', { headers: { location: JOB } });

    await mockClient(agent).collections.submit({
      path: '/workloads',
      query: { managed: 'true', max_results: '5' },
    });

    expect(calls()[0]?.fullUrl).toBe(`${ORIGIN}/api/v2/orgs/1/workloads?managed=true&max_results=5`);
  });

  it('normalises an absolute Location to the relative job href', async () => {
    const { agent, pce } = mockPce();
    pce
      .intercept({ path: '/api/v2/orgs/1/labels', method: 'GET' })
      .reply(202, '', { headers: { location: `${ORIGIN}/api/v2${JOB}`, 'retry-after': '5' } });

    const result = await mockClient(agent).collections.submit({ path: '/labels' });

    expect(result.jobHref).toBe(JOB);
  });

  it('reads Location and Retry-After whatever the case of their names', async () => {
    const { agent, pce } = mockPce();
    pce
      .intercept({ path: '/api/v2/orgs/1/labels', method: 'GET' })
      .reply(202, '', { headers: { LOCATION: JOB, 'RETRY-AFTER': '11' } });

    const result = await mockClient(agent).collections.submit({ path: '/labels' });

    expect(result).toEqual({ jobHref: JOB, retryAfterSeconds: 11 });
  });

  it.each([
    ['missing', undefined, 5],
    ['nonsense', 'soon', 5],
    ['negative', '-3', 5],
    ['zero', '0', 1],
    ['huge', '100000000000', 5],
    ['above the maximum', '900', 300],
  ])('turns a %s Retry-After into %#', async (_label, retryAfter, expected) => {
    const { agent, pce } = mockPce();
    const headers: Record<string, string> = { location: JOB };
    if (retryAfter !== undefined) headers['retry-after'] = retryAfter;
    pce.intercept({ path: '/api/v2/orgs/1/labels', method: 'GET' }).reply(202, '', { headers });

    const result = await mockClient(agent).collections.submit({ path: '/labels' });

    expect(result.retryAfterSeconds).toBe(expected);
  });

  it('reads an HTTP-date Retry-After relative to the current time', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2025, 0, 15, 12, 0, 0) });
    const { agent, pce } = mockPce();
    pce
      .intercept({ path: '/api/v2/orgs/1/labels', method: 'GET' })
      .reply(202, '', { headers: { location: JOB, 'retry-after': 'Wed, 15 Jan 2025 12:00:42 GMT' } });

    const result = await mockClient(agent).collections.submit({ path: '/labels' });

    expect(result.retryAfterSeconds).toBe(42);
  });

  it('applies the configured Retry-After bounds', async () => {
    const { agent, pce } = mockPce();
    pce
      .intercept({ path: '/api/v2/orgs/1/labels', method: 'GET' })
      .reply(202, '', { headers: { location: JOB, 'retry-after': '120' } });

    const result = await mockClient(agent, { retryAfter: { maxSeconds: 60 } }).collections.submit({
      path: '/labels',
    });

    expect(result.retryAfterSeconds).toBe(60);
  });

  it.each([
    ['on another host', `https://evil.example.com:8443/api/v2${JOB}`],
    ['on another port', `https://pce.example.com:9443/api/v2${JOB}`],
    ['for another org', `/orgs/2/jobs/${JOB_ID}`],
    ['with traversal', `/orgs/1/jobs/../../2/jobs/${JOB_ID}`],
    ['that is not a job', `/orgs/1/labels/${JOB_ID}`],
    ['that is empty', ''],
  ])('fails with PceProtocolError on a Location %s', async (_label, location) => {
    const { agent, pce } = mockPce();
    pce.intercept({ path: '/api/v2/orgs/1/labels', method: 'GET' }).reply(202, '', { headers: { location } });

    const error = await failure(mockClient(agent).collections.submit({ path: '/labels' }));

    expect(error).toBeInstanceOf(PceProtocolError);
    expect(error.message).toMatch(/^The Location header of the 202 response to GET \/orgs\/1\/labels /);
  });

  it('fails with PceProtocolError when the 202 has no Location', async () => {
    const { agent, pce } = mockPce();
    pce
      .intercept({ path: '/api/v2/orgs/1/labels', method: 'GET' })
      .reply(202, '', { headers: { 'retry-after': '5' } });

    const error = await failure(mockClient(agent).collections.submit({ path: '/labels' }));

    expect(error).toBeInstanceOf(PceProtocolError);
    expect(error.message).toContain('is missing');
  });

  it('fails with PceProtocolError when the 202 has two Location headers', async () => {
    const { agent, pce } = mockPce();
    pce
      .intercept({ path: '/api/v2/orgs/1/labels', method: 'GET' })
      .reply(202, '', { headers: { location: [JOB, `/orgs/1/jobs/${randomUUID()}`] } });

    const error = await failure(mockClient(agent).collections.submit({ path: '/labels' }));

    expect(error).toBeInstanceOf(PceProtocolError);
  });

  it.each([
    [200, '200 OK'],
    [204, '204 No Content'],
    [302, '302 Found'],
  ])('fails with PceProtocolError on %i instead of 202', async (status, line) => {
    const { agent, pce } = mockPce();
    pce
      .intercept({ path: '/api/v2/orgs/1/labels', method: 'GET' })
      .reply(status, status === 200 ? '[]' : '', { headers: { location: JOB } });

    const error = await failure(mockClient(agent).collections.submit({ path: '/labels' }));

    expect(error).toBeInstanceOf(PceProtocolError);
    expect(error.message).toBe(
      `GET /orgs/1/labels returned ${line} instead of 202 Accepted: the PCE did not run the request as an async job`,
    );
  });

  it('fails with ExportConfigError on a path that leaves the org, without sending a request', async () => {
    const { agent, calls } = mockPce();

    const error = await failure(mockClient(agent).collections.submit({ path: '/../2/labels' }));

    expect(error).toBeInstanceOf(ExportConfigError);
    expect(calls()).toHaveLength(0);
  });
});

describe('poll', () => {
  it.each([
    ['pending', 'pending'],
    ['running', 'running'],
    ['failed', 'failed'],
    ['RUNNING', 'running'],
    ['Pending', 'pending'],
    [' failed ', 'failed'],
  ])('reports status %j as %j', async (status, expected) => {
    const { agent, pce } = mockPce();
    replyJob(pce, job(status));

    const result = await mockClient(agent).collections.poll(JOB);

    expect(result.status).toBe(expected);
    expect(result.resultHref).toBeUndefined();
  });

  it('sends Basic auth, Accept and Accept-Encoding gzip', async () => {
    const { agent, pce, calls } = mockPce();
    replyJob(pce, job('running'));

    await mockClient(agent).collections.poll(JOB);

    const headers = sentHeaders(calls()[0]);
    expect(headers.authorization).toBe(`Basic ${BASIC}`);
    expect(headers.accept).toBe('application/json');
    expect(headers['accept-encoding']).toBe('gzip');
    expect(headers.prefer).toBeUndefined();
  });

  it('returns the datafile href, the timestamps and the Retry-After of a done job', async () => {
    const { agent, pce } = mockPce();
    replyJob(pce, job('done', { result: { href: DATAFILE }, terminated_at: '2016-01-14 23:17:05.223047' }), {
      'retry-after': '2',
    });

    const result = await mockClient(agent).collections.poll(JOB);

    expect(result).toEqual({
      status: 'done',
      resultHref: DATAFILE,
      retryAfterSeconds: 2,
      requestedAt: '2016-01-14 23:16:52.303166',
      terminatedAt: '2016-01-14 23:17:05.223047',
    });
  });

  it('normalises an absolute datafile href of a DONE job', async () => {
    const { agent, pce } = mockPce();
    replyJob(pce, job('DONE', { result: { href: `${ORIGIN}/api/v2${DATAFILE}` } }));

    const result = await mockClient(agent).collections.poll(`${ORIGIN}/api/v2${JOB}`);

    expect(result.status).toBe('done');
    expect(result.resultHref).toBe(DATAFILE);
  });

  it('uses the default Retry-After when the poll response has none', async () => {
    const { agent, pce } = mockPce();
    replyJob(pce, job('running'));

    const result = await mockClient(agent).collections.poll(JOB);

    expect(result.retryAfterSeconds).toBe(5);
  });

  it("reports a failed job with the PCE's message", async () => {
    const { agent, pce } = mockPce();
    replyJob(pce, job('failed', { result: { message: 'Exceeded the time limit' } }));

    const result = await mockClient(agent).collections.poll(JOB);

    expect(result.status).toBe('failed');
    expect(result.message).toBe('Exceeded the time limit');
  });

  it.each([['cancelled'], ['Cancelled'], ['canceled']])(
    "reports a %s job as failed with a message saying so and the PCE's reason",
    async (status) => {
      const { agent, pce } = mockPce();
      replyJob(pce, job(status, { result: { message: 'Cancelled by admin' } }));

      const result = await mockClient(agent).collections.poll(JOB);

      expect(result.status).toBe('failed');
      expect(result.message).toBe(`The PCE job ${JOB} was cancelled: Cancelled by admin`);
    },
  );

  it('reports a cancelled job without a PCE message', async () => {
    const { agent, pce } = mockPce();
    replyJob(pce, job('cancelled'));

    const result = await mockClient(agent).collections.poll(JOB);

    expect(result).toMatchObject({ status: 'failed', message: `The PCE job ${JOB} was cancelled` });
  });

  it.each([['queued'], ['completed'], ['cancel_requested'], ['unknown'], ['']])(
    'fails with PceProtocolError on the unknown status %j',
    async (status) => {
      const { agent, pce } = mockPce();
      replyJob(pce, job(status));

      const error = await failure(mockClient(agent).collections.poll(JOB));

      expect(error).toBeInstanceOf(PceProtocolError);
      expect(error.message).toContain('unknown job status');
    },
  );

  it.each([
    ['no status', { href: JOB, result: {} }],
    ['a numeric status', job('done', { status: 3 })],
    ['done without result', job('done', { result: undefined })],
    ['done without result.href', job('done', { result: {} })],
    [
      'done with a foreign result.href',
      job('done', { result: { href: `https://evil.example.com/api/v2${DATAFILE}` } }),
    ],
    ['done with a job href as result', job('done', { result: { href: JOB } })],
    ['done with a result.href of another org', job('done', { result: { href: '/orgs/2/datafiles/abc' } })],
  ])('fails with PceProtocolError on a job with %s', async (_label, body) => {
    const { agent, pce } = mockPce();
    replyJob(pce, body);

    const error = await failure(mockClient(agent).collections.poll(JOB));

    expect(error).toBeInstanceOf(PceProtocolError);
  });

  it.each([
    ['a non-JSON body', '<html>busy</html>', JSON_HEADERS, 'not JSON'],
    ['an empty body', '', JSON_HEADERS, 'empty body'],
    ['a blank body', '  \n', JSON_HEADERS, 'empty body'],
    ['a JSON array', '[]', JSON_HEADERS, 'an array instead of a job object'],
    ['JSON null', 'null', JSON_HEADERS, 'null instead of a job object'],
    ['a JSON string', '"done"', JSON_HEADERS, 'a string instead of a job object'],
    ['an HTML content type', JSON.stringify(job('done')), { 'content-type': 'text/html' }, 'instead of JSON'],
    ['no content type', JSON.stringify(job('done')), {}, 'instead of JSON'],
  ])('fails with PceProtocolError on %s', async (_label, body, headers, says) => {
    const { agent, pce } = mockPce();
    pce.intercept({ path: `/api/v2${JOB}`, method: 'GET' }).reply(200, body, { headers });

    const error = await failure(mockClient(agent).collections.poll(JOB));

    expect(error).toBeInstanceOf(PceProtocolError);
    expect(error.message).toMatch(new RegExp(`^GET ${JOB} returned 200 OK .*${says}`));
  });

  it('accepts a JSON content type with parameters', async () => {
    const { agent, pce } = mockPce();
    pce.intercept({ path: `/api/v2${JOB}`, method: 'GET' }).reply(200, JSON.stringify(job('running')), {
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });

    const result = await mockClient(agent).collections.poll(JOB);

    expect(result.status).toBe('running');
  });

  it('decodes a gzip-encoded job', async () => {
    const { agent, pce } = mockPce();
    pce
      .intercept({ path: `/api/v2${JOB}`, method: 'GET' })
      .reply(200, gzipSync(JSON.stringify(job('done', { result: { href: DATAFILE } }))), {
        headers: { ...JSON_HEADERS, 'content-encoding': 'gzip' },
      });

    const result = await mockClient(agent).collections.poll(JOB);

    expect(result.resultHref).toBe(DATAFILE);
  });

  it('fails with PceProtocolError on a content coding it did not ask for', async () => {
    const { agent, pce } = mockPce();
    pce
      .intercept({ path: `/api/v2${JOB}`, method: 'GET' })
      .reply(200, 'xx', { headers: { ...JSON_HEADERS, 'content-encoding': 'br' } });

    const error = await failure(mockClient(agent).collections.poll(JOB));

    expect(error).toBeInstanceOf(PceProtocolError);
  });

  it('fails with PceProtocolError on a job body larger than 1 MiB', async () => {
    const { agent, pce } = mockPce();
    const body = JSON.stringify(job('running', { description: 'x'.repeat(1024 * 1024) }));
    pce.intercept({ path: `/api/v2${JOB}`, method: 'GET' }).reply(200, body, { headers: JSON_HEADERS });

    const error = await failure(mockClient(agent).collections.poll(JOB));

    expect(error).toBeInstanceOf(PceProtocolError);
    expect(error.message).toContain('larger than');
  });

  it('fails with PceRequestError when the job is gone', async () => {
    const { agent, pce } = mockPce();
    pce
      .intercept({ path: `/api/v2${JOB}`, method: 'GET' })
      .reply(404, JSON.stringify([{ token: 'not_found', message: 'Job not found' }]), {
        headers: JSON_HEADERS,
      });

    const error = await failure(mockClient(agent).collections.poll(JOB));

    expect(error).toBeInstanceOf(PceRequestError);
    expect(error.message).toBe(`GET ${JOB} returned 404 Not Found (not_found: Job not found)`);
    expect(error).toMatchObject({ status: 404, token: 'not_found', href: JOB });
  });
});

describe('href arguments from state-machine data', () => {
  const tampered = [
    ['an href on another host', `https://evil.example.com:8443/api/v2${JOB}`],
    ['an href on another scheme', `http://pce.example.com:8443/api/v2${JOB}`],
    ['an href with user info', `https://x:y@pce.example.com:8443/api/v2${JOB}`],
    ['an href of another org', `/orgs/2/jobs/${JOB_ID}`],
    ['an href with traversal', `/orgs/1/jobs/../../2/jobs/${JOB_ID}`],
    ['an href with encoded traversal', `/orgs/1/jobs/%2e%2e/${JOB_ID}`],
    ['an href with a backslash', `/orgs/1/jobs\\..\\${JOB_ID}`],
    ['an href with a query', `${JOB}?delete=all`],
    ['an href with a fragment', `${JOB}#x`],
    ['an href with a bad id', '/orgs/1/jobs/abc$def'],
    ['a collection href', '/orgs/1/labels'],
  ];

  it.each(tampered)('poll rejects %s with PceProtocolError before any request', async (_label, href) => {
    const { agent, calls } = mockPce();

    const error = await failure(mockClient(agent).collections.poll(href));

    expect(error).toBeInstanceOf(PceProtocolError);
    expect(error.message).toMatch(/^The job href given to poll /);
    expect(calls()).toHaveLength(0);
  });

  it.each(tampered)('deleteJob rejects %s with PceProtocolError before any request', async (_label, href) => {
    const { agent, calls } = mockPce();

    const error = await failure(mockClient(agent).collections.delete(href));

    expect(error).toBeInstanceOf(PceProtocolError);
    expect(calls()).toHaveLength(0);
  });

  it.each([
    ...tampered.map(([label, href]) => [label, (href as string).replace('/jobs', '/datafiles')]),
    ['a job href', JOB],
  ])('openDatafile rejects %s with PceProtocolError before any request', async (_label, href) => {
    const { agent, calls } = mockPce();

    const error = await failure(mockClient(agent).collections.open(href as string));

    expect(error).toBeInstanceOf(PceProtocolError);
    expect(calls()).toHaveLength(0);
  });

  it.each([[undefined], [null], [42], [{}]])(
    'poll rejects the non-string %j before any request',
    async (value) => {
      const { agent, calls } = mockPce();

      const error = await failure(mockClient(agent).collections.poll(value as unknown as string));

      expect(error).toBeInstanceOf(PceProtocolError);
      expect(calls()).toHaveLength(0);
    },
  );
});

describe('HTTP errors', () => {
  it('fails with PceAuthError on 401 without retrying', async () => {
    const { agent, pce, calls } = mockPce();
    pce
      .intercept({ path: '/api/v2/orgs/1/labels', method: 'GET' })
      .reply(401, JSON.stringify([{ token: 'authentication_failed', message: 'Invalid credentials' }]), {
        headers: JSON_HEADERS,
      });

    const error = await failure(mockClient(agent).collections.submit({ path: '/labels' }));

    expect(error).toBeInstanceOf(PceAuthError);
    expect(error.name).toBe('PceAuthError');
    expect(error.message).toMatch(
      /^GET \/orgs\/1\/labels returned 401 Unauthorized \(authentication_failed: Invalid credentials\)/,
    );
    expect(error).toMatchObject({ status: 401, token: 'authentication_failed', href: '/orgs/1/labels' });
    expect(calls()).toHaveLength(1);
  });

  it('fails with PceAuthError on 403', async () => {
    const { agent, pce } = mockPce();
    pce.intercept({ path: `/api/v2${JOB}`, method: 'GET' }).reply(403, '');

    const error = await failure(mockClient(agent).collections.poll(JOB));

    expect(error).toBeInstanceOf(PceAuthError);
    expect(error.message).toMatch(new RegExp(`^GET ${JOB} returned 403 Forbidden\\. Check the API key`));
  });

  it.each([
    [400, 'Bad Request'],
    [404, 'Not Found'],
    [406, 'Not Acceptable'],
    [409, 'Conflict'],
    [422, 'Unprocessable Entity'],
  ])('fails with PceRequestError on %i without retrying', async (status, text) => {
    const { agent, pce, calls } = mockPce();
    pce
      .intercept({ path: '/api/v2/orgs/1/labels', query: { key: 'bogus' }, method: 'GET' })
      .reply(status, JSON.stringify([{ token: 'invalid_filter', message: 'Unknown filter key' }]), {
        headers: JSON_HEADERS,
      });

    const error = await failure(
      mockClient(agent).collections.submit({ path: '/labels', query: { key: 'bogus' } }),
    );

    expect(error).toBeInstanceOf(PceRequestError);
    expect(error.message).toBe(
      `GET /orgs/1/labels?key=bogus returned ${status} ${text} (invalid_filter: Unknown filter key)`,
    );
    expect(calls()).toHaveLength(1);
  });

  it.each([[500], [502], [503], [504]])(
    'fails with PceUnavailable carrying the Retry-After on %i',
    async (status) => {
      const { agent, pce, calls } = mockPce();
      pce.intercept({ path: `/api/v2${JOB}`, method: 'GET' }).reply(status, '<html>oops</html>', {
        headers: { 'content-type': 'text/html', 'retry-after': '30' },
      });

      const error = await failure(mockClient(agent).collections.poll(JOB));

      expect(error).toBeInstanceOf(PceUnavailable);
      expect(error).toMatchObject({ status, retryAfterSeconds: 30 });
      expect(error.message).toMatch(
        new RegExp(`^GET ${JOB} returned ${status} [A-Za-z ]+; retry after 30 s$`),
      );
      expect(calls()).toHaveLength(1);
    },
  );

  it('uses the default Retry-After on a 5xx without one', async () => {
    const { agent, pce } = mockPce();
    pce.intercept({ path: `/api/v2${JOB}`, method: 'GET' }).reply(503, '');

    const error = await failure(mockClient(agent).collections.poll(JOB));

    expect(error).toMatchObject({ name: 'PceUnavailable', retryAfterSeconds: 5 });
  });

  it('joins several PCE errors and keeps the first token', async () => {
    const { agent, pce } = mockPce();
    const body = [
      { token: 'input_validation_error', message: 'Bad key' },
      { token: 'second_error', message: 'Bad value' },
    ];
    pce.intercept({ path: '/api/v2/orgs/1/labels', method: 'GET' }).reply(400, JSON.stringify(body));

    const error = await failure(mockClient(agent).collections.submit({ path: '/labels' }));

    expect(error.message).toContain('(input_validation_error: Bad key; second_error: Bad value)');
    expect(error).toMatchObject({ token: 'input_validation_error' });
  });

  it.each([
    ['an object body', JSON.stringify({ token: 'tok', message: 'msg' }), 'application/json', ' (tok: msg)'],
    ['an array of non-objects', JSON.stringify(['a', 1, null]), 'application/json', ''],
    ['JSON with odd types', JSON.stringify([{ token: 7, message: { a: 1 } }]), 'application/json', ''],
    ['an HTML page', '<html><body>Bad Request</body></html>', 'text/html', ''],
    ['a plain-text sentence', 'bad filter\r\nvalue', 'text/plain', ' (bad filter value)'],
    ['truncated JSON', '[{"token": "x", "mess', 'application/json', ''],
  ])('parses %s defensively', async (_label, body, contentType, said) => {
    const { agent, pce } = mockPce();
    pce
      .intercept({ path: '/api/v2/orgs/1/labels', method: 'GET' })
      .reply(400, body, { headers: { 'content-type': contentType } });

    const error = await failure(mockClient(agent).collections.submit({ path: '/labels' }));

    expect(error).toBeInstanceOf(PceRequestError);
    expect(error.message).toBe(`GET /orgs/1/labels returned 400 Bad Request${said}`);
  });

  it('bounds the length of a PCE error message', async () => {
    const { agent, pce } = mockPce();
    const body = JSON.stringify([{ token: 'long', message: 'x'.repeat(5000) }]);
    pce.intercept({ path: '/api/v2/orgs/1/labels', method: 'GET' }).reply(400, body);

    const error = await failure(mockClient(agent).collections.submit({ path: '/labels' }));

    expect(error.message.length).toBeLessThan(500);
    expect(error).toMatchObject({ token: 'long' });
  });

  it('decodes a gzip-encoded error body', async () => {
    const { agent, pce } = mockPce();
    pce
      .intercept({ path: `/api/v2${JOB}`, method: 'GET' })
      .reply(404, gzipSync(JSON.stringify([{ token: 'not_found', message: 'No such job' }])), {
        headers: { ...JSON_HEADERS, 'content-encoding': 'gzip' },
      });

    const error = await failure(mockClient(agent).collections.poll(JOB));

    expect(error.message).toBe(`GET ${JOB} returned 404 Not Found (not_found: No such job)`);
  });

  it('reads no more than 8 KB of an error body that never ends, and lets the connection go', async () => {
    let closed: Promise<boolean> | undefined;
    const server = await serve((_req, res) => {
      closed = new Promise((done) => res.on('close', () => done(res.writableEnded)));
      res.writeHead(400, JSON_HEADERS);
      res.write(`[{"token": "big", "message": "${'x'.repeat(64 * 1024)}`);
      // Never ends, and the body timeout is never reached: a client that read the whole body
      // would never answer.
    });
    const client = loopbackClient(server.origin, { bodyTimeoutMs: 24 * 3_600_000 });

    const error = await failure(client.collections.submit({ path: '/labels' }));

    expect(error).toBeInstanceOf(PceRequestError);
    expect(error.message).toBe('GET /orgs/1/labels returned 400 Bad Request');
    // The client closed the response while the body was still open.
    expect(await closed).toBe(false);
  });
});

describe('rate limiting', () => {
  it('waits out a 429 and succeeds within the budget', async () => {
    const { agent, pce, calls } = mockPce();
    const route = { path: '/api/v2/orgs/1/labels', method: 'GET' };
    pce.intercept(route).reply(429, '', { headers: { 'retry-after': '2' } });
    pce.intercept(route).reply(202, '', { headers: { location: JOB, 'retry-after': '5' } });
    const { waits, runtime } = sleepRecorder();

    const result = await mockClient(agent, {}, runtime).collections.submit({ path: '/labels' });

    expect(result.jobHref).toBe(JOB);
    expect(waits).toEqual([2000]);
    expect(calls()).toHaveLength(2);
  });

  it('gives up with PceRateLimited after rateLimitRetries waits', async () => {
    const { agent, pce, calls } = mockPce();
    pce
      .intercept({ path: `/api/v2${JOB}`, method: 'GET' })
      .reply(429, JSON.stringify([{ token: 'too_many_requests', message: 'Slow down' }]), {
        headers: { 'retry-after': '1' },
      })
      .times(4);
    const { waits, runtime } = sleepRecorder();

    const error = await failure(mockClient(agent, {}, runtime).collections.poll(JOB));

    expect(error).toBeInstanceOf(PceRateLimited);
    expect(error).toMatchObject({ status: 429, retryAfterSeconds: 1, token: 'too_many_requests' });
    expect(error.message).toBe(
      `GET ${JOB} returned 429 Too Many Requests (too_many_requests: Slow down) after 3 wait(s); retry after 1 s`,
    );
    expect(waits).toEqual([1000, 1000, 1000]);
    expect(calls()).toHaveLength(4);
  });

  it('stops waiting once the total wait would exceed the budget', async () => {
    const { agent, pce, calls } = mockPce();
    pce
      .intercept({ path: `/api/v2${JOB}`, method: 'GET' })
      .reply(429, '', { headers: { 'retry-after': '15' } })
      .times(2);
    const { waits, runtime } = sleepRecorder();

    const error = await failure(mockClient(agent, {}, runtime).collections.poll(JOB));

    expect(error).toBeInstanceOf(PceRateLimited);
    expect(error).toMatchObject({ retryAfterSeconds: 15 });
    expect(waits).toEqual([15_000]);
    expect(calls()).toHaveLength(2);
  });

  it('fails with PceRateLimited at once when the Retry-After exceeds the budget', async () => {
    const { agent, pce, calls } = mockPce();
    pce
      .intercept({ path: `/api/v2${JOB}`, method: 'GET' })
      .reply(429, '', { headers: { 'retry-after': '60' } });
    const { waits, runtime } = sleepRecorder();

    const error = await failure(mockClient(agent, {}, runtime).collections.poll(JOB));

    expect(error).toMatchObject({ name: 'PceRateLimited', retryAfterSeconds: 60 });
    expect(waits).toEqual([]);
    expect(calls()).toHaveLength(1);
  });

  it('waits the default Retry-After when a 429 has none', async () => {
    const { agent, pce } = mockPce();
    const route = { path: `/api/v2${JOB}`, method: 'DELETE' };
    pce.intercept(route).reply(429, '');
    pce.intercept(route).reply(204, '');
    const { waits, runtime } = sleepRecorder();

    await mockClient(agent, {}, runtime).collections.delete(JOB);

    expect(waits).toEqual([5000]);
  });

  it('honours configured retries and budget', async () => {
    const { agent, pce, calls } = mockPce();
    pce
      .intercept({ path: `/api/v2${JOB}`, method: 'GET' })
      .reply(429, '', { headers: { 'retry-after': '1' } });
    const { waits, runtime } = sleepRecorder();

    const error = await failure(mockClient(agent, { rateLimitRetries: 0 }, runtime).collections.poll(JOB));

    expect(error).toBeInstanceOf(PceRateLimited);
    expect(waits).toEqual([]);
    expect(calls()).toHaveLength(1);
  });

  it('really waits when no sleep is injected', async () => {
    const { agent, pce } = mockPce();
    const route = { path: `/api/v2${JOB}`, method: 'GET' };
    pce.intercept(route).reply(429, '', { headers: { 'retry-after': '0' } });
    replyJob(pce, job('running'));

    const result = await mockClient(agent, { retryAfter: { minSeconds: 0 } }).collections.poll(JOB);

    expect(result.status).toBe('running');
  });
});

describe('transport errors', () => {
  function systemError(code: string, message: string): Error {
    return Object.assign(new Error(message), { code });
  }

  it.each([
    ['a connection reset', () => systemError('ECONNRESET', 'read ECONNRESET'), 'ECONNRESET'],
    ['a refused connection', () => systemError('ECONNREFUSED', 'connect ECONNREFUSED'), 'ECONNREFUSED'],
    ['an unknown host', () => systemError('ENOTFOUND', 'getaddrinfo ENOTFOUND pce'), 'ENOTFOUND'],
    ['a DNS hiccup', () => systemError('EAI_AGAIN', 'getaddrinfo EAI_AGAIN pce'), 'EAI_AGAIN'],
    ['a connect timeout', () => new undiciErrors.ConnectTimeoutError(), 'UND_ERR_CONNECT_TIMEOUT'],
    ['a headers timeout', () => new undiciErrors.HeadersTimeoutError(), 'UND_ERR_HEADERS_TIMEOUT'],
    ['a body timeout', () => new undiciErrors.BodyTimeoutError(), 'UND_ERR_BODY_TIMEOUT'],
    ['a closed socket', () => new undiciErrors.SocketError('other side closed'), 'UND_ERR_SOCKET'],
    ['an unclassified error', () => new Error('something odd'), 'something odd'],
  ])('fails with PceUnavailable on %s', async (_label, makeError, mentioned) => {
    const { agent, pce } = mockPce();
    const cause = makeError();
    pce.intercept({ path: `/api/v2${JOB}`, method: 'GET' }).replyWithError(cause);

    const error = await failure(mockClient(agent).collections.poll(JOB));

    expect(error).toBeInstanceOf(PceUnavailable);
    expect(error.message).toMatch(new RegExp(`^GET ${JOB} failed: .*${mentioned}`));
    expect(error.message).toContain(ORIGIN);
  });

  it('keeps a plain transport error as the cause', async () => {
    const { agent, pce } = mockPce();
    const cause = systemError('ECONNRESET', 'read ECONNRESET');
    pce.intercept({ path: `/api/v2${JOB}`, method: 'GET' }).replyWithError(cause);

    const error = await failure(mockClient(agent).collections.poll(JOB));

    expect(error.cause).toBe(cause);
  });

  it.each([
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    ['SELF_SIGNED_CERT_IN_CHAIN'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT'],
    ['UNABLE_TO_GET_ISSUER_CERT'],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY'],
    ['CERT_HAS_EXPIRED'],
    ['ERR_TLS_CERT_ALTNAME_INVALID'],
  ])('fails with ExportConfigError naming caBundle on the TLS trust failure %s', async (code) => {
    const { agent, pce, calls } = mockPce();
    pce
      .intercept({ path: '/api/v2/orgs/1/labels', method: 'GET' })
      .replyWithError(systemError(code, 'tls says no'));

    const error = await failure(mockClient(agent).collections.submit({ path: '/labels' }));

    expect(error).toBeInstanceOf(ExportConfigError);
    expect(error).not.toBeInstanceOf(PceUnavailable);
    expect(error.message).toContain(`(${code})`);
    expect(error.message).toContain("put that CA's PEM in the secret's caBundle field");
    expect(calls()).toHaveLength(1);
  });

  it('finds a TLS trust failure wrapped in a cause', async () => {
    const { agent, pce } = mockPce();
    const wrapped = new Error('fetch failed', {
      cause: systemError('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed'),
    });
    pce.intercept({ path: '/api/v2/orgs/1/labels', method: 'GET' }).replyWithError(wrapped);

    const error = await failure(mockClient(agent).collections.submit({ path: '/labels' }));

    expect(error).toBeInstanceOf(ExportConfigError);
  });

  it('fails with PceUnavailable when the PCE does not answer in time', async () => {
    const server = await serve(() => {
      // Never answers.
    });
    const client = loopbackClient(server.origin, { headersTimeoutMs: 200 });

    const error = await failure(client.collections.submit({ path: '/labels' }));

    expect(error).toBeInstanceOf(PceUnavailable);
    expect(error.message).toContain('UND_ERR_HEADERS_TIMEOUT');
  });

  it('fails with PceUnavailable when the connection is refused', async () => {
    const server = await serve((_req, res) => res.end());
    const { origin } = server;
    await cleanups.pop()?.();
    const client = loopbackClient(origin);

    const error = await failure(client.collections.poll(JOB));

    expect(error).toBeInstanceOf(PceUnavailable);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('fails with PceUnavailable when the connection drops before the response', async () => {
    const server = await serve((req) => req.socket.destroy());
    const client = loopbackClient(server.origin);

    const error = await failure(client.collections.delete(JOB));

    expect(error).toBeInstanceOf(PceUnavailable);
  });
});

describe('openDatafile', () => {
  const rows = Array.from({ length: 20_000 }, (_, i) => ({
    href: `/orgs/1/labels/${i}`,
    key: 'env',
    value: randomUUID(),
  }));
  const payload = Buffer.from(JSON.stringify(rows));
  const gzipped = gzipSync(payload);

  it('streams a gzip-encoded datafile and decodes it to the original bytes', async () => {
    const server = await serve((req, res) => {
      expect(req.url).toBe(`/api/v2${DATAFILE}`);
      res.writeHead(200, { ...JSON_HEADERS, 'content-encoding': 'gzip' });
      // Written in pieces so the client sees a real stream.
      for (let offset = 0; offset < gzipped.length; offset += 16 * 1024) {
        res.write(gzipped.subarray(offset, offset + 16 * 1024));
      }
      res.end();
    });
    const client = loopbackClient(server.origin);

    const datafile = await client.collections.open(DATAFILE);
    const bytes = await collect(datafile.body);

    expect(bytes.equals(payload)).toBe(true);
    expect(datafile.contentType).toBe('application/json');
    expect(datafile.contentLength).toBeUndefined();
    expect(server.requests[0]?.headers['accept-encoding']).toBe('gzip');
    expect(server.requests[0]?.headers.authorization).toBe(`Basic ${BASIC}`);
  });

  it('streams an identity-encoded datafile with its length', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { ...JSON_HEADERS, 'content-length': String(payload.length) });
      res.end(payload);
    });
    const client = loopbackClient(server.origin);

    const datafile = await client.collections.open(`${server.origin}/api/v2${DATAFILE}`);
    const bytes = await collect(datafile.body);

    expect(bytes.equals(payload)).toBe(true);
    expect(datafile.contentLength).toBe(payload.length);
  });

  it('does not read ahead of its consumer and stops the download when the stream is destroyed', async () => {
    const limit = 256 * 1024 * 1024;
    let written = 0;
    let serverSawClose = false;
    const server = await serve((_req, res) => {
      res.writeHead(200, JSON_HEADERS);
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      res.on('close', () => {
        serverSawClose = true;
      });
      const pump = () => {
        while (!serverSawClose && written < limit) {
          written += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    const client = loopbackClient(server.origin);

    const datafile = await client.collections.open(DATAFILE);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const writtenWhileIdle = written;
    datafile.body.destroy();
    await vi.waitFor(() => expect(serverSawClose).toBe(true));

    expect(writtenWhileIdle).toBeLessThan(limit / 4);
  });

  it('errors the stream with PceUnavailable when the body is cut off', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { ...JSON_HEADERS, 'content-length': String(payload.length) });
      res.write(payload.subarray(0, 100_000));
      setTimeout(() => res.socket?.destroy(), 50);
    });
    const client = loopbackClient(server.origin);

    const datafile = await client.collections.open(DATAFILE);
    const error = await failure(collect(datafile.body));

    expect(error).toBeInstanceOf(PceUnavailable);
    expect(error.name).toBe('PceUnavailable');
    expect(error.message).toMatch(new RegExp(`^GET ${DATAFILE} failed while streaming the datafile: `));
    expect(error).toMatchObject({ href: DATAFILE });
  });

  it('errors the stream with PceUnavailable when a gzip body is cut off mid-stream', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { ...JSON_HEADERS, 'content-encoding': 'gzip' });
      res.write(gzipped.subarray(0, Math.floor(gzipped.length / 2)));
      setTimeout(() => res.socket?.destroy(), 50);
    });
    const client = loopbackClient(server.origin);

    const datafile = await client.collections.open(DATAFILE);
    const error = await failure(collect(datafile.body));

    expect(error.name).toBe('PceUnavailable');
  });

  it('errors the stream with PceUnavailable when a complete response holds a truncated gzip stream', async () => {
    const half = gzipped.subarray(0, Math.floor(gzipped.length / 2));
    const server = await serve((_req, res) => {
      res.writeHead(200, {
        ...JSON_HEADERS,
        'content-encoding': 'gzip',
        'content-length': String(half.length),
      });
      res.end(half);
    });
    const client = loopbackClient(server.origin);

    const datafile = await client.collections.open(DATAFILE);
    const error = await failure(collect(datafile.body));

    expect(error.name).toBe('PceUnavailable');
    expect(error.message).toContain('Z_BUF_ERROR');
  });

  it('errors the stream with PceUnavailable when the gzip body is corrupt', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { ...JSON_HEADERS, 'content-encoding': 'gzip' });
      res.end('this is not gzip at all');
    });
    const client = loopbackClient(server.origin);

    const datafile = await client.collections.open(DATAFILE);
    const error = await failure(collect(datafile.body));

    expect(error.name).toBe('PceUnavailable');
    expect(error.message).toContain('Z_DATA_ERROR');
  });

  it('errors the stream with PceUnavailable when the body stalls past the body timeout', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, JSON_HEADERS);
      res.write('[{"href": "/orgs/1/labels/1"}');
    });
    const client = loopbackClient(server.origin, { bodyTimeoutMs: 300 });

    const datafile = await client.collections.open(DATAFILE);
    const error = await failure(collect(datafile.body));

    expect(error.name).toBe('PceUnavailable');
    expect(error.message).toContain('UND_ERR_BODY_TIMEOUT');
  });

  it('fails with PceRequestError when the datafile is gone', async () => {
    const { agent, pce } = mockPce();
    pce
      .intercept({ path: `/api/v2${DATAFILE}`, method: 'GET' })
      .reply(404, JSON.stringify([{ token: 'not_found', message: 'Datafile expired' }]), {
        headers: JSON_HEADERS,
      });

    const error = await failure(mockClient(agent).collections.open(DATAFILE));

    expect(error).toBeInstanceOf(PceRequestError);
    expect(error.message).toBe(`GET ${DATAFILE} returned 404 Not Found (not_found: Datafile expired)`);
  });

  it('fails with PceProtocolError on a content coding it did not ask for', async () => {
    const { agent, pce } = mockPce();
    pce
      .intercept({ path: `/api/v2${DATAFILE}`, method: 'GET' })
      .reply(200, 'xx', { headers: { ...JSON_HEADERS, 'content-encoding': 'br' } });

    const error = await failure(mockClient(agent).collections.open(DATAFILE));

    expect(error).toBeInstanceOf(PceProtocolError);
  });

  it('fails with PceProtocolError on a 2xx other than 200', async () => {
    const { agent, pce } = mockPce();
    pce.intercept({ path: `/api/v2${DATAFILE}`, method: 'GET' }).reply(204, '');

    const error = await failure(mockClient(agent).collections.open(DATAFILE));

    expect(error).toBeInstanceOf(PceProtocolError);
  });
});

describe('deleteJob', () => {
  it.each([[204], [200], [202]])('succeeds on %i', async (status) => {
    const { agent, pce, calls } = mockPce();
    pce.intercept({ path: `/api/v2${JOB}`, method: 'DELETE' }).reply(status, '');

    await mockClient(agent).collections.delete(JOB);

    expect(calls()[0]?.method).toBe('DELETE');
    expect(sentHeaders(calls()[0]).authorization).toBe(`Basic ${BASIC}`);
  });

  it('succeeds when the job is already gone', async () => {
    const { agent, pce, calls } = mockPce();
    pce.intercept({ path: `/api/v2${JOB}`, method: 'DELETE' }).reply(404, '[{"token":"not_found"}]');

    await mockClient(agent).collections.delete(`${ORIGIN}/api/v2${JOB}`);

    expect(calls()).toHaveLength(1);
  });

  it('fails with PceAuthError on 401', async () => {
    const { agent, pce } = mockPce();
    pce.intercept({ path: `/api/v2${JOB}`, method: 'DELETE' }).reply(401, '');

    const error = await failure(mockClient(agent).collections.delete(JOB));

    expect(error).toBeInstanceOf(PceAuthError);
    expect(error.message).toMatch(new RegExp(`^DELETE ${JOB} returned 401 Unauthorized`));
  });

  it('fails with PceUnavailable on 500', async () => {
    const { agent, pce } = mockPce();
    pce.intercept({ path: `/api/v2${JOB}`, method: 'DELETE' }).reply(500, '');

    const error = await failure(mockClient(agent).collections.delete(JOB));

    expect(error).toBeInstanceOf(PceUnavailable);
  });
});

describe('TLS and connections', () => {
  it("trusts the PCE's private CA only when it is given as caBundle", async () => {
    const { caPem, keyPem, certPem } = await createTestCa();
    const server = await serve(
      (_req, res) => {
        res.writeHead(202, { Location: JOB, 'Retry-After': '3' });
        res.end();
      },
      { key: keyPem, cert: certPem },
    );

    const untrusted = await failure(loopbackClient(server.origin).collections.submit({ path: '/labels' }));
    const requestsWithoutCa = server.requests.length;
    const trusted = await loopbackClient(server.origin, {}, caPem).collections.submit({ path: '/labels' });

    expect(untrusted).toBeInstanceOf(ExportConfigError);
    // The server sends its certificate with the CA, as a PCE's nginx does.
    expect(untrusted.message).toContain('SELF_SIGNED_CERT_IN_CHAIN');
    expect(untrusted.message).toContain('caBundle');
    expect(requestsWithoutCa).toBe(0);
    expect(trusted).toEqual({ jobHref: JOB, retryAfterSeconds: 3 });
  });

  it('fails with ExportConfigError on a caBundle that holds no certificate', () => {
    expect(() =>
      createPceClient({ baseUrl: ORIGIN, orgId: 1, apiKey: KEY, apiSecret: SECRET, caBundle: 'not a pem' }),
    ).toThrow(ExportConfigError);
  });

  it('fails with ExportConfigError on a caBundle whose certificate does not parse', () => {
    const caBundle = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n';

    expect(() =>
      createPceClient({ baseUrl: ORIGIN, orgId: 1, apiKey: KEY, apiSecret: SECRET, caBundle }),
    ).toThrow(ExportConfigError);
  });

  it('fails with ExportConfigError when an https URL reaches a plain-HTTP port', async () => {
    const server = await serve((_req, res) => res.end());
    const client = loopbackClient(server.origin.replace('http:', 'https:'));

    const error = await failure(client.collections.submit({ path: '/labels' }));

    expect(error).toBeInstanceOf(ExportConfigError);
  });

  it('reuses one keep-alive connection for consecutive requests', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/api/v2/orgs/1/labels') {
        res.writeHead(202, { Location: JOB, 'Retry-After': '1' });
        res.end();
        return;
      }
      res.writeHead(200, JSON_HEADERS);
      res.end(JSON.stringify(job('running')));
    });
    const client = loopbackClient(server.origin);

    const { jobHref } = await client.collections.submit({ path: '/labels' });
    // Between requests the workflow waits out the Retry-After; a tick lets the pool see the socket free.
    await new Promise((resolve) => setImmediate(resolve));
    await client.collections.poll(jobHref);
    await new Promise((resolve) => setImmediate(resolve));
    const polled = await client.collections.poll(jobHref);

    expect(polled.status).toBe('running');
    expect(server.requests).toHaveLength(3);
    expect(server.connections).toBe(1);
  });

  it('closes its own connection pool on close(), once however often it is called', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(202, { Location: JOB });
      res.end();
    });
    const client = loopbackClient(server.origin);
    await client.collections.submit({ path: '/labels' });

    await client.close();
    const error = await failure(client.collections.submit({ path: '/labels' }));

    expect(error).toBeInstanceOf(PceUnavailable);
    expect(server.requests).toHaveLength(1);
    await expect(client.close()).resolves.toBeUndefined();
  });

  it('leaves an injected dispatcher open on close()', async () => {
    const { agent, pce } = mockPce();
    replyJob(pce, job('running'));
    const client = mockClient(agent);

    await client.close();
    const result = await client.collections.poll(JOB);

    expect(result.status).toBe('running');
  });
});

describe('configuration', () => {
  const connection: PceConnection = { baseUrl: ORIGIN, orgId: 1, apiKey: KEY, apiSecret: SECRET };

  it.each([
    ['a base URL with a path', { baseUrl: `${ORIGIN}/api/v2` }],
    ['a base URL with user info', { baseUrl: `https://${KEY}:${SECRET}@pce.example.com` }],
    ['a base URL with a query', { baseUrl: `${ORIGIN}/?org=1` }],
    ['a non-HTTP base URL', { baseUrl: 'ftp://pce.example.com' }],
    ['org 0', { orgId: 0 }],
    ['a fractional org', { orgId: 1.5 }],
    ['an empty API key', { apiKey: '' }],
    ['an API key with a colon', { apiKey: 'api:x' }],
    ['an empty API secret', { apiSecret: '' }],
  ])('fails with ExportConfigError on %s', (_label, override) => {
    let caught: unknown;
    try {
      createPceClient({ ...connection, ...override });
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(ExportConfigError);
    expectNoCredentials(caught);
  });

  it.each([
    [{ connectTimeoutMs: 0 }],
    [{ headersTimeoutMs: -1 }],
    [{ bodyTimeoutMs: Number.NaN }],
    [{ rateLimitRetries: 1.5 }],
    [{ rateLimitWaitBudgetSeconds: -1 }],
    [{ retryAfter: { minSeconds: 10, maxSeconds: 1 } }],
  ])('fails with ExportConfigError on the option %j', (options) => {
    expect(() => createPceClient(connection, options)).toThrow(ExportConfigError);
  });
});

describe('credentials', () => {
  const echo = `Authorization: Basic ${BASIC} (${KEY}:${SECRET})`;
  const scenarios: Array<[string, string, () => Promise<Error>]> = [
    [
      'PceAuthError echoing the credentials',
      'PceAuthError',
      async () => {
        const { agent, pce } = mockPce();
        pce
          .intercept({ path: '/api/v2/orgs/1/labels', method: 'GET' })
          .reply(401, JSON.stringify([{ token: 'authentication_failed', message: echo }]));
        return failure(mockClient(agent).collections.submit({ path: '/labels' }));
      },
    ],
    [
      'PceRequestError echoing the credentials in plain text',
      'PceRequestError',
      async () => {
        const { agent, pce } = mockPce();
        pce
          .intercept({ path: `/api/v2${JOB}`, method: 'GET' })
          .reply(400, echo, { headers: { 'content-type': 'text/plain' } });
        return failure(mockClient(agent).collections.poll(JOB));
      },
    ],
    [
      'PceRateLimited',
      'PceRateLimited',
      async () => {
        const { agent, pce } = mockPce();
        pce
          .intercept({ path: `/api/v2${JOB}`, method: 'GET' })
          .reply(429, JSON.stringify([{ token: 'rate', message: echo }]), {
            headers: { 'retry-after': '999' },
          });
        return failure(mockClient(agent).collections.poll(JOB));
      },
    ],
    [
      'PceUnavailable from a 5xx',
      'PceUnavailable',
      async () => {
        const { agent, pce } = mockPce();
        pce
          .intercept({ path: `/api/v2${JOB}`, method: 'DELETE' })
          .reply(503, JSON.stringify({ message: echo }));
        return failure(mockClient(agent).collections.delete(JOB));
      },
    ],
    [
      'PceUnavailable from a transport error that carries the request headers',
      'PceUnavailable',
      async () => {
        const { agent, pce } = mockPce();
        const leaky = Object.assign(new Error(`socket hang up; ${echo}`), {
          code: 'ECONNRESET',
          headers: { authorization: `Basic ${BASIC}` },
        });
        pce.intercept({ path: `/api/v2${JOB}`, method: 'GET' }).replyWithError(leaky);
        return failure(mockClient(agent).collections.poll(JOB));
      },
    ],
    [
      'PceUnavailable from an unmatched request',
      'PceUnavailable',
      async () => {
        const { agent } = mockPce();
        return failure(mockClient(agent).collections.poll(JOB));
      },
    ],
    [
      'PceUnavailable from a datafile cut off',
      'PceUnavailable',
      async () => {
        const server = await serve((_req, res) => {
          res.writeHead(200, { 'content-length': '1000' });
          res.write('[');
          setTimeout(() => res.socket?.destroy(), 50);
        });
        const datafile = await loopbackClient(server.origin).collections.open(DATAFILE);
        return failure(collect(datafile.body));
      },
    ],
    [
      'PceProtocolError from a foreign Location',
      'PceProtocolError',
      async () => {
        const { agent, pce } = mockPce();
        pce.intercept({ path: '/api/v2/orgs/1/labels', method: 'GET' }).reply(202, '', {
          headers: { location: `https://${KEY}:${SECRET}@evil.example.com/api/v2${JOB}` },
        });
        return failure(mockClient(agent).collections.submit({ path: '/labels' }));
      },
    ],
    [
      'PceProtocolError from an unknown status',
      'PceProtocolError',
      async () => {
        const { agent, pce } = mockPce();
        replyJob(pce, job(`weird ${SECRET}`));
        return failure(mockClient(agent).collections.poll(JOB));
      },
    ],
    [
      'ExportConfigError from a TLS failure',
      'ExportConfigError',
      async () => {
        const { agent, pce } = mockPce();
        pce
          .intercept({ path: '/api/v2/orgs/1/labels', method: 'GET' })
          .replyWithError(
            Object.assign(new Error(`bad cert ${echo}`), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }),
          );
        return failure(mockClient(agent).collections.submit({ path: '/labels' }));
      },
    ],
  ];

  it.each(scenarios)('keeps the secret and the Basic value out of %s', async (_label, name, produce) => {
    const error = await produce();

    expect(error.name).toBe(name);
    expectNoCredentials(error);
  });

  it('shows where credentials were redacted', async () => {
    const [, , produce] = scenarios[0] as (typeof scenarios)[number];

    const error = await produce();

    expect(error.message).toContain('[redacted]');
  });

  it('keeps the code of a scrubbed cause', async () => {
    const [, , produce] = scenarios[4] as (typeof scenarios)[number];

    const error = await produce();

    expect((error.cause as { code?: string }).code).toBe('ECONNRESET');
    expect((error.cause as { headers?: unknown }).headers).toBeUndefined();
  });
});
