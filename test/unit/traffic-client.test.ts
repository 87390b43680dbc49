import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { gzipSync } from 'node:zlib';
import { MockAgent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createPceClient } from '../../lambdas/pce/client';
import {
  PceAuthError,
  PceProtocolError,
  PceRateLimited,
  PceRequestError,
  PceUnavailable,
} from '../../lambdas/pce/errors';
import type { TrafficQueryBody } from '../../lambdas/pce/types';
import { collect, failure } from '../support/async';

const ORIGIN = 'https://pce.example.com:8443';
const KEY = 'api_0123456789abcdef';
const SECRET = 'Zs3cr3t-traffic-9f8e7d6c5b4a';
const BASIC = Buffer.from(`${KEY}:${SECRET}`).toString('base64');
const QUERY_ID = '3f2b9a51-7c1e-4a0b-9d7e-0c1b2a3d4e5f';
const QUERY = `/orgs/1/traffic_flows/async_queries/${QUERY_ID}`;
const DOWNLOAD = `${QUERY}/download`;
const JSON_HEADERS = { 'content-type': 'application/json' };
const FLOWS = [
  { src: { ip: '10.0.0.1' }, dst: { ip: '10.0.0.2' }, service: { port: 443, proto: 6 }, num_connections: 3 },
  { src: { ip: '10.0.0.3' }, dst: { ip: '10.0.0.4' }, service: { port: 53, proto: 17 }, num_connections: 1 },
];
const BODY: TrafficQueryBody = {
  query_name: 'pce-export traffic run-1',
  start_date: '2026-01-01T00:00:00.000Z',
  end_date: '2026-01-02T00:00:00.000Z',
  policy_decisions: ['blocked'],
  max_results: 1000,
  sources: { include: [[{ label: { href: '/orgs/1/labels/7' } }]], exclude: [] },
  destinations: { include: [[]], exclude: [{ ip_address: '10.0.0.0/8' }] },
  services: { include: [], exclude: [] },
  sources_destinations_query_op: 'and',
  exclude_workloads_from_ip_list_query: true,
};

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function mockPce() {
  const agent = new MockAgent({ enableCallHistory: true });
  agent.disableNetConnect();
  cleanups.push(() => agent.close());
  const client = createPceClient(
    { baseUrl: ORIGIN, orgId: 1, apiKey: KEY, apiSecret: SECRET },
    { dispatcher: agent },
    { sleep: async () => {} },
  );
  const traffic = client.traffic;
  return { pce: agent.get(ORIGIN), traffic, calls: () => agent.getCallHistory()?.calls() ?? [] };
}

function expectNoCredentials(error: unknown): void {
  const text = `${String(error)} ${inspect(error, { depth: 10, showHidden: true })}`;
  expect(text).not.toContain(SECRET);
  expect(text).not.toContain(BASIC);
}

/** A loopback HTTP server that answers every request with `handler`. */
async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('traffic query submit', () => {
  it('POSTs the query as JSON with Basic auth and returns the href of the 202', async () => {
    const { pce, traffic, calls } = mockPce();
    pce
      .intercept({ path: '/api/v2/orgs/1/traffic_flows/async_queries', method: 'POST' })
      .reply(202, { href: QUERY, status: 'queued' }, { headers: JSON_HEADERS });

    const submitted = await traffic.submit(BODY);

    const [call] = calls();
    expect(submitted).toEqual({ jobHref: QUERY, retryAfterSeconds: 5 });
    expect(JSON.parse(String(call?.body))).toEqual(BODY);
    expect(call?.headers).toMatchObject({
      authorization: `Basic ${BASIC}`,
      'content-type': 'application/json',
      accept: 'application/json',
    });
  });

  it('accepts a 201 with an absolute href and honours its Retry-After', async () => {
    const { pce, traffic } = mockPce();
    pce
      .intercept({ path: '/api/v2/orgs/1/traffic_flows/async_queries', method: 'POST' })
      .reply(
        201,
        { href: `${ORIGIN}/api/v2${QUERY}`, status: 'queued' },
        { headers: { ...JSON_HEADERS, 'retry-after': '12' } },
      );

    expect(await traffic.submit(BODY)).toEqual({ jobHref: QUERY, retryAfterSeconds: 12 });
  });

  it.each([
    [
      'an href on another origin',
      { href: `https://evil.example.com/api/v2${QUERY}`, status: 'queued' },
      /another origin/,
    ],
    [
      'a job href',
      { href: '/orgs/1/jobs/abc', status: 'queued' },
      /not of the form|not a traffic query href/,
    ],
    [
      'an href of another org',
      { href: `/orgs/2/traffic_flows/async_queries/${QUERY_ID}`, status: 'queued' },
      /another org/,
    ],
    ['no href', { status: 'queued' }, /is missing/],
    ['an unknown status', { href: QUERY, status: 'exploded' }, /unknown status "exploded"/],
  ])('fails with PceProtocolError on %s', async (_name, body, message) => {
    const { pce, traffic } = mockPce();
    pce
      .intercept({ path: '/api/v2/orgs/1/traffic_flows/async_queries', method: 'POST' })
      .reply(202, body, { headers: JSON_HEADERS });

    const error = await failure(traffic.submit(BODY));

    expect(error).toBeInstanceOf(PceProtocolError);
    expect(error.message).toMatch(message);
  });

  it('fails with PceProtocolError when the PCE answers 200 instead of creating a query', async () => {
    const { pce, traffic } = mockPce();
    pce
      .intercept({ path: '/api/v2/orgs/1/traffic_flows/async_queries', method: 'POST' })
      .reply(200, [], { headers: JSON_HEADERS });

    const error = await failure(traffic.submit(BODY));

    expect(error).toBeInstanceOf(PceProtocolError);
    expect(error.message).toContain('instead of 202 Accepted or 201 Created with the traffic query');
  });

  it("fails with PceRequestError carrying the PCE's token and message on 406", async () => {
    const { pce, traffic } = mockPce();
    pce
      .intercept({ path: '/api/v2/orgs/1/traffic_flows/async_queries', method: 'POST' })
      .reply(406, [{ token: 'input_validation_error', message: 'max_results must be at most 200000' }], {
        headers: JSON_HEADERS,
      });

    const error = await failure(traffic.submit(BODY));

    expect(error).toBeInstanceOf(PceRequestError);
    expect(error).toMatchObject({ status: 406, token: 'input_validation_error' });
    expect(error.message).toContain('POST /orgs/1/traffic_flows/async_queries returned 406');
    expect(error.message).toContain('max_results must be at most 200000');
  });

  it('fails with PceAuthError on 401 and never shows the credentials', async () => {
    const { pce, traffic } = mockPce();
    pce
      .intercept({ path: '/api/v2/orgs/1/traffic_flows/async_queries', method: 'POST' })
      .reply(401, [{ token: 'authentication_failed', message: `bad key ${KEY}:${SECRET}` }], {
        headers: JSON_HEADERS,
      });

    const error = await failure(traffic.submit(BODY));

    expect(error).toBeInstanceOf(PceAuthError);
    expectNoCredentials(error);
  });

  it('waits out a 429 and sends the same body again', async () => {
    const { pce, traffic, calls } = mockPce();
    const path = '/api/v2/orgs/1/traffic_flows/async_queries';
    pce.intercept({ path, method: 'POST' }).reply(429, '', { headers: { 'retry-after': '1' } });
    pce
      .intercept({ path, method: 'POST' })
      .reply(202, { href: QUERY, status: 'queued' }, { headers: JSON_HEADERS });

    await traffic.submit(BODY);

    expect(calls().map((call) => JSON.parse(String(call.body)))).toEqual([BODY, BODY]);
  });

  it('fails with PceRateLimited when the 429s go on', async () => {
    const { pce, traffic } = mockPce();
    pce
      .intercept({ path: '/api/v2/orgs/1/traffic_flows/async_queries', method: 'POST' })
      .reply(429, '', { headers: { 'retry-after': '1' } })
      .times(10);

    expect(await failure(traffic.submit(BODY))).toBeInstanceOf(PceRateLimited);
  });
});

describe('traffic query poll', () => {
  function answer(pce: ReturnType<typeof mockPce>['pce'], body: object) {
    pce.intercept({ path: `/api/v2${QUERY}`, method: 'GET' }).reply(200, body, { headers: JSON_HEADERS });
  }

  it.each([
    ['queued', 'pending'],
    ['working', 'running'],
    ['WORKING', 'running'],
  ])('maps %s to %s', async (status, expected) => {
    const { pce, traffic } = mockPce();
    answer(pce, { href: QUERY, status, created_at: '2026-01-02T00:00:01Z' });

    expect(await traffic.poll(QUERY)).toEqual({
      status: expected,
      retryAfterSeconds: 5,
      requestedAt: '2026-01-02T00:00:01Z',
      terminatedAt: undefined,
    });
  });

  it('maps completed to done with the download href the PCE names as result', async () => {
    const { pce, traffic } = mockPce();
    answer(pce, {
      href: QUERY,
      status: 'completed',
      result: DOWNLOAD,
      created_at: '2026-01-02T00:00:01Z',
      updated_at: '2026-01-02T00:01:00Z',
      flows_count: 2,
    });

    expect(await traffic.poll(`${ORIGIN}/api/v2${QUERY}`)).toEqual({
      status: 'done',
      resultHref: DOWNLOAD,
      retryAfterSeconds: 5,
      requestedAt: '2026-01-02T00:00:01Z',
      terminatedAt: '2026-01-02T00:01:00Z',
      flowsCount: 2,
    });
  });

  it('uses {href}/download when a completed query names no result', async () => {
    const { pce, traffic } = mockPce();
    answer(pce, { href: QUERY, status: 'completed' });

    expect(await traffic.poll(QUERY)).toMatchObject({ status: 'done', resultHref: DOWNLOAD });
  });

  it.each([
    ["another query's download", `/orgs/1/traffic_flows/async_queries/other-id/download`, /another query/],
    ['a foreign origin', `https://evil.example.com/api/v2${DOWNLOAD}`, /another origin/],
    ['a datafile href', '/orgs/1/datafiles/abc', /not a download href/],
    ['a number', 42, /not a download href/],
  ])(
    'fails with PceProtocolError when a completed query names %s as result',
    async (_name, result, message) => {
      const { pce, traffic } = mockPce();
      answer(pce, { href: QUERY, status: 'completed', result });

      const error = await failure(traffic.poll(QUERY));

      expect(error).toBeInstanceOf(PceProtocolError);
      expect(error.message).toMatch(message);
    },
  );

  it("maps failed to failed with the PCE's error message", async () => {
    const { pce, traffic } = mockPce();
    answer(pce, { href: QUERY, status: 'failed', error_message: 'Query timed out in the data store' });

    expect(await traffic.poll(QUERY)).toMatchObject({
      status: 'failed',
      message: 'Query timed out in the data store',
    });
  });

  it.each(['cancelled', 'cancel_requested', 'canceled'])(
    'maps %s to failed, saying it was cancelled',
    async (status) => {
      const { pce, traffic } = mockPce();
      answer(pce, { href: QUERY, status });

      const result = await traffic.poll(QUERY);

      expect(result.status).toBe('failed');
      expect(result.message).toContain(`The PCE traffic query ${QUERY} was cancelled (${status})`);
    },
  );

  it.each([
    ['an unknown status', { href: QUERY, status: 'exploded' }, /unknown status "exploded"/],
    ['no status', { href: QUERY }, /status missing/],
    ['an array', [], /an array instead of a traffic query object/],
  ])('fails with PceProtocolError on %s', async (_name, body, message) => {
    const { pce, traffic } = mockPce();
    answer(pce, body);

    const error = await failure(traffic.poll(QUERY));

    expect(error).toBeInstanceOf(PceProtocolError);
    expect(error.message).toMatch(message);
  });

  it('refuses to poll a job href and sends nothing', async () => {
    const { traffic, calls } = mockPce();

    const error = await failure(traffic.poll('/orgs/1/jobs/abc'));

    expect(error).toBeInstanceOf(PceProtocolError);
    expect(calls()).toHaveLength(0);
  });

  it('fails with PceRequestError when the query is gone (404)', async () => {
    const { pce, traffic } = mockPce();
    pce
      .intercept({ path: `/api/v2${QUERY}`, method: 'GET' })
      .reply(404, [{ token: 'not_found', message: 'Async query not found' }], { headers: JSON_HEADERS });

    const error = await failure(traffic.poll(QUERY));

    expect(error).toBeInstanceOf(PceRequestError);
    expect(error.message).toContain(`GET ${QUERY} returned 404 Not Found`);
  });
});

describe('traffic query download', () => {
  const json = Buffer.from(JSON.stringify(FLOWS));

  function download(pce: ReturnType<typeof mockPce>['pce'], body: Buffer, headers: Record<string, string>) {
    pce.intercept({ path: `/api/v2${DOWNLOAD}`, method: 'GET' }).reply(200, body, { headers });
  }

  it('streams plain JSON unchanged, asking for JSON and allowing gzip', async () => {
    const { pce, traffic, calls } = mockPce();
    download(pce, json, JSON_HEADERS);

    const file = await traffic.open(DOWNLOAD);

    expect((await collect(file.body)).equals(json)).toBe(true);
    expect(calls()[0]?.headers).toMatchObject({ accept: 'application/json', 'accept-encoding': 'gzip' });
    expect(file.contentType).toBe('application/json');
  });

  it('undoes a transport gzip that Content-Encoding announces', async () => {
    const { pce, traffic } = mockPce();
    download(pce, gzipSync(json), { ...JSON_HEADERS, 'content-encoding': 'gzip' });

    const file = await traffic.open(DOWNLOAD);

    expect((await collect(file.body)).equals(json)).toBe(true);
  });

  it('recognises gzip bytes served without Content-Encoding and decompresses them', async () => {
    const { pce, traffic } = mockPce();
    download(pce, gzipSync(json), JSON_HEADERS);

    const file = await traffic.open(DOWNLOAD);

    expect((await collect(file.body)).equals(json)).toBe(true);
  });

  it('decompresses a gzip file that also came with a transport gzip', async () => {
    const { pce, traffic } = mockPce();
    download(pce, gzipSync(gzipSync(json)), { ...JSON_HEADERS, 'content-encoding': 'gzip' });

    const file = await traffic.open(DOWNLOAD);

    expect((await collect(file.body)).equals(json)).toBe(true);
  });

  it.each([
    ['an empty body', Buffer.alloc(0)],
    ['a one-byte body', Buffer.from('[')],
    ['an empty array', Buffer.from('[]')],
  ])('passes %s through as it is', async (_name, body) => {
    const { pce, traffic } = mockPce();
    download(pce, body, JSON_HEADERS);

    const file = await traffic.open(DOWNLOAD);

    expect((await collect(file.body)).equals(body)).toBe(true);
  });

  it('errors the stream with PceUnavailable when the gzip bytes are corrupt', async () => {
    const { pce, traffic } = mockPce();
    const corrupt = gzipSync(json);
    corrupt.fill(0x41, 12, 40);
    download(pce, corrupt, JSON_HEADERS);

    const file = await traffic.open(DOWNLOAD);
    const error = await failure(collect(file.body));

    expect(error).toBeInstanceOf(PceUnavailable);
    expect(error.message).toContain(`GET ${DOWNLOAD} failed while decompressing the download`);
  });

  it('errors the stream with PceUnavailable when an unannounced gzip download is cut off', async () => {
    const compressed = gzipSync(Buffer.from(JSON.stringify(Array.from({ length: 2000 }, (_, i) => ({ i })))));
    const origin = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(compressed.length) });
      res.write(compressed.subarray(0, Math.floor(compressed.length / 2)), () => res.socket?.destroy());
    });
    const client = createPceClient({ baseUrl: origin, orgId: 1, apiKey: KEY, apiSecret: SECRET });
    cleanups.push(() => client.close());

    const file = await client.traffic.open(DOWNLOAD);
    const error = await failure(collect(file.body));

    expect(error).toBeInstanceOf(PceUnavailable);
    expectNoCredentials(error);
  });

  it('fails with PceRequestError when the download is not there (404)', async () => {
    const { pce, traffic } = mockPce();
    pce
      .intercept({ path: `/api/v2${DOWNLOAD}`, method: 'GET' })
      .reply(404, [{ token: 'not_found', message: 'no results' }], { headers: JSON_HEADERS });

    expect(await failure(traffic.open(DOWNLOAD))).toBeInstanceOf(PceRequestError);
  });

  it('refuses a download href of another org and sends nothing', async () => {
    const { traffic, calls } = mockPce();

    const error = await failure(traffic.open(`/orgs/2/traffic_flows/async_queries/${QUERY_ID}/download`));

    expect(error).toBeInstanceOf(PceProtocolError);
    expect(calls()).toHaveLength(0);
  });
});

describe('traffic query delete', () => {
  it('DELETEs the query', async () => {
    const { pce, traffic, calls } = mockPce();
    pce.intercept({ path: `/api/v2${QUERY}`, method: 'DELETE' }).reply(204, '');

    await traffic.delete(QUERY);

    expect(calls().map((call) => `${call.method} ${call.path}`)).toEqual([`DELETE /api/v2${QUERY}`]);
  });

  it('treats a query that is already gone (404) as deleted', async () => {
    const { pce, traffic } = mockPce();
    pce.intercept({ path: `/api/v2${QUERY}`, method: 'DELETE' }).reply(404, '');

    await expect(traffic.delete(QUERY)).resolves.toBeUndefined();
  });

  it('fails with PceRequestError when the PCE does not allow deleting queries (405)', async () => {
    const { pce, traffic } = mockPce();
    pce.intercept({ path: `/api/v2${QUERY}`, method: 'DELETE' }).reply(405, '');

    expect(await failure(traffic.delete(QUERY))).toBeInstanceOf(PceRequestError);
  });
});
