/**
 * Answers that are odd but valid, and hostile ones: header case, framing, forced gzip, job
 * phases and status case, extra fields, foreign hrefs, endless and deep bodies, control
 * characters, stalled and slowloris datafiles.
 */
import { get, type IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fault, type RunningSimulator, startSimulator } from '../../simulator';
import { basicAuth, call, type JobJson, submit } from './simulator-helpers';

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({
    clock: 'manual',
    jobDurationMs: 4_000,
    dataset: { workloads: 300, labels: 8 },
  });
});
afterEach(() => sim.faults.clear());
afterAll(() => sim.close());

const auth = () => basicAuth(sim.credentials.apiKey, sim.credentials.apiSecret);

/** A GET with node:http, which keeps header names as sent (`rawHeaders`). */
function rawGet(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ res: IncomingMessage; body: Buffer; names: string[] }> {
  return new Promise((resolve, reject) => {
    get(`${sim.url}/api/v2${path}`, { headers: { authorization: auth(), ...headers } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () =>
        resolve({ res, body: Buffer.concat(parts), names: res.rawHeaders.filter((_, i) => i % 2 === 0) }),
      );
      res.on('error', reject);
    }).on('error', reject);
  });
}

async function finishedJob(path = '/orgs/1/labels'): Promise<JobJson> {
  const href = await submit(sim, path);
  await sim.clock.advance(4_000);
  return (await call(sim, href)).json<JobJson>();
}

describe('odd but valid', () => {
  it('sends header names in upper case or title case', async () => {
    sim.faults.add(fault.headerCase('upper', { endpoint: 'submit' }));
    sim.faults.add(fault.headerCase('title', { endpoint: 'jobs' }));
    const upper = await rawGet('/orgs/1/labels', { prefer: 'respond-async' });
    expect(upper.res.statusCode).toBe(202);
    expect(upper.names).toEqual(
      expect.arrayContaining(['LOCATION', 'RETRY-AFTER', 'X-REQUEST-ID', 'CONTENT-LENGTH']),
    );
    expect(upper.res.headers.location).toMatch(/^\/orgs\/1\/jobs\//);
    const title = await rawGet('/orgs/1/jobs');
    expect(title.names).toEqual(expect.arrayContaining(['Content-Type', 'Content-Length', 'X-Request-Id']));
    expect(JSON.parse(title.body.toString())).toEqual(expect.any(Array));
    // Calls the faults do not hit keep lower-case names.
    expect((await rawGet('/orgs/1/labels', { prefer: 'respond-async' })).names).toContain('location');
  });

  it('frames a small JSON answer chunked, without Content-Length', async () => {
    sim.faults.add(fault.framing('chunked', { endpoint: 'jobs' }));
    const { res, body } = await rawGet('/orgs/1/jobs');
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(JSON.parse(body.toString())).toEqual(expect.any(Array));
  });

  it('frames a datafile with a Content-Length, gzipped or not', async () => {
    const job = await finishedJob('/orgs/1/workloads');
    const plain = await call(sim, job.result.href ?? '');
    sim.faults.add(fault.framing('content-length', { times: 2 }));
    const framed = await rawGet(job.result.href ?? '');
    expect(framed.res.headers['content-length']).toBe(String(framed.body.length));
    expect(framed.body.toString()).toBe(plain.text);
    const zipped = await call(sim, job.result.href ?? '', { headers: { 'accept-encoding': 'gzip' } });
    expect(zipped.header('content-encoding')).toBe('gzip');
    expect(zipped.header('content-length')).toBe(String(zipped.bytes.length));
    expect(zipped.text).toBe(plain.text);
  });

  it('gzips any answer, a poll included, whatever Accept-Encoding said', async () => {
    const href = await submit(sim, '/orgs/1/labels');
    sim.faults.add(fault.gzip({ endpoint: 'job' }));
    const { res, body } = await rawGet(href);
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(body).toString()).href).toBe(href);
  });

  it('goes pending → running → pending → running before done', async () => {
    sim.faults.add(fault.jobPhases());
    const href = await submit(sim, '/orgs/1/labels');
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      seen.push((await call(sim, href)).json<JobJson>().status);
      await sim.clock.advance(1_000);
    }
    expect(seen).toEqual(['pending', 'running', 'pending', 'running', 'done']);
  });

  it('reports every status in another letter case, and the datafile still downloads', async () => {
    sim.faults.add(fault.statusCase('upper'));
    sim.faults.add(fault.statusCase('title', { nth: 2 }));
    const upper = await submit(sim, '/orgs/1/labels');
    const title = await submit(sim, '/orgs/1/labels');
    expect((await call(sim, upper)).json<JobJson>().status).toBe('PENDING');
    await sim.clock.advance(1_000);
    expect((await call(sim, upper)).json<JobJson>().status).toBe('RUNNING');
    await sim.clock.advance(3_000);
    const done = (await call(sim, upper)).json<JobJson>();
    expect(done.status).toBe('DONE');
    expect((await call(sim, title)).json<JobJson>().status).toBe('Done');
    expect((await call(sim, done.result.href ?? '')).status).toBe(200);
  });

  it('adds unknown fields to the job documents, in polls and in the job list', async () => {
    sim.faults.add(fault.extraFields({ progress: { percent: 10 }, x_node: 'core1' }));
    const href = await submit(sim, '/orgs/1/labels');
    const job = (await call(sim, href)).json<Record<string, unknown>>();
    expect(job).toMatchObject({ href, status: 'pending', progress: { percent: 10 }, x_node: 'core1' });
    const listed = (await call(sim, '/orgs/1/jobs'))
      .json<Record<string, unknown>[]>()
      .find((j) => j.href === href);
    expect(listed?.x_node).toBe('core1');
  });
});

describe('hostile', () => {
  it('reports a job href of another origin while the job stays pollable', async () => {
    sim.faults.add(fault.jobHref('https://evil.example:8443/api/v2/orgs/2/jobs/{id}'));
    const href = await submit(sim, '/orgs/1/labels');
    const id = href.split('/').at(-1);
    const job = await call(sim, href);
    expect(job.status).toBe(200);
    expect(job.json<JobJson>().href).toBe(`https://evil.example:8443/api/v2/orgs/2/jobs/${id}`);
  });

  it('sends an endless error body as fast as the client reads', async () => {
    sim.faults.add(fault.hugeError({ endpoint: 'job', status: 503 }));
    const href = await submit(sim, '/orgs/1/labels');
    const res = await request(`${sim.url}/api/v2${href}`, { headers: { authorization: auth() } });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-length']).toBeUndefined();
    let received = 0;
    let head = '';
    for await (const chunk of res.body) {
      if (head.length < 64) head += (chunk as Buffer).toString();
      received += (chunk as Buffer).length;
      if (received > 20 * 1024 * 1024) break;
    }
    res.body.destroy();
    expect(head.startsWith('[{"token":"service_unavailable","message":"')).toBe(true);
    expect(received).toBeGreaterThan(20 * 1024 * 1024);
  });

  it('sends an enormous error body of exactly the given size', async () => {
    sim.faults.add(fault.hugeError({ endpoint: 'jobs', bytes: 5_000_000 }));
    const res = await call(sim, '/orgs/1/jobs');
    expect(res.status).toBe(500);
    expect(res.bytes).toHaveLength(5_000_000);
  });

  it('sends valid JSON nested deeply', async () => {
    sim.faults.add(fault.deepJson(1_000, { endpoint: 'jobs' }));
    sim.faults.add(fault.deepJson(undefined, { endpoint: 'jobs', nth: 2 }));
    const shallow = await call(sim, '/orgs/1/jobs');
    expect(shallow.status).toBe(200);
    expect(shallow.text).toBe(`${'['.repeat(1_000)}${']'.repeat(1_000)}`);
    expect((await call(sim, '/orgs/1/jobs')).bytes).toHaveLength(200_000);
  });

  it('laces the human-readable strings with control characters, escaped', async () => {
    sim.faults.add(fault.controlChars());
    const href = await submit(sim, '/orgs/1/labels');
    const res = await call(sim, href);
    const job = res.json<JobJson>();
    expect(job.description).toBe('/orgs/1/labels\u0000\u0007\u001b[31m\u001b[2J\r\nX-Injected: 1\u202e');
    expect(job.href).toBe(href);
    expect(res.text).toContain('\\u0000');
    expect(res.bytes.includes(0)).toBe(false);
  });

  it('stalls a datafile after the given bytes, leaving the connection open', async () => {
    const job = await finishedJob('/orgs/1/workloads');
    sim.faults.add(fault.stallBody(20_000));
    const res = await request(`${sim.url}/api/v2${job.result.href}`, { headers: { authorization: auth() } });
    let received = 0;
    let reached = () => {};
    const stalled = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const ended = (async () => {
      for await (const chunk of res.body) {
        received += (chunk as Buffer).length;
        if (received >= 20_000) reached();
      }
    })();
    await stalled;
    // The body never ended by itself: the connection is still open when the stall is broken off.
    res.body.destroy(new Error('client gave up'));
    await expect(ended).rejects.toThrow('client gave up');
    expect(received).toBe(20_000);
  });

  it('sends a slowloris datafile intact, a little at a time', async () => {
    const job = await finishedJob('/orgs/1/labels');
    const normal = await call(sim, job.result.href ?? '');
    sim.faults.add(fault.slowloris(0.5));
    const before = sim.bytesSent();
    const res = await request(`${sim.url}/api/v2${job.result.href}`, { headers: { authorization: auth() } });
    const parts: Buffer[] = [];
    let sentAtFirstChunk = -1;
    for await (const chunk of res.body) {
      if (sentAtFirstChunk < 0) sentAtFirstChunk = sim.bytesSent() - before;
      parts.push(chunk as Buffer);
    }
    expect(Buffer.concat(parts).toString()).toBe(normal.text);
    expect(sentAtFirstChunk).toBeLessThan(normal.bytes.length);
  });
});
