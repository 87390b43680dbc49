import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { JOB_TYPE, type RunningSimulator, startSimulator } from '../../simulator';
import {
  basicAuth,
  call,
  type JobJson,
  pollUntilSettled,
  stepUntilSettled,
  submit,
} from './simulator-helpers';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

interface Workload {
  href: string;
  hostname: string;
  managed: boolean;
  labels: { href: string }[];
  interfaces: { name: string; address: string; cidr_block: number }[];
  created_at: string;
  updated_at: string;
}
interface Label {
  href: string;
  key: string;
  value: string;
}

let sim: RunningSimulator;

beforeAll(async () => {
  // Jobs long enough (pending for their first 200 ms) that each phase is seen even on a busy machine.
  sim = await startSimulator({ jobDurationMs: 1000, dataset: { workloads: 1200, labels: 40 } });
});
afterAll(() => sim.close());

describe('authentication and routing', () => {
  it('answers 401 with an authentication_failed body when credentials are missing or wrong', async () => {
    const missing = await call(sim, '/orgs/1/labels', { anonymous: true });
    const wrong = await call(sim, '/orgs/1/labels', {
      headers: { authorization: basicAuth(sim.credentials.apiKey, 'not-the-secret') },
    });
    for (const res of [missing, wrong]) {
      expect(res.status).toBe(401);
      expect(res.header('content-type')).toMatch(/^application\/json/);
      expect(res.json()).toEqual([{ token: 'authentication_failed', message: expect.any(String) }]);
    }
  });

  it('generates api_ credentials when none are given', () => {
    expect(sim.credentials.apiKey).toMatch(/^api_[0-9a-f]{16}$/);
    expect(sim.credentials.apiSecret).toMatch(/^[0-9a-f]{64}$/);
  });

  it('answers 403 with a PCE error body for an org it does not serve', async () => {
    const res = await call(sim, '/orgs/2/workloads');
    expect(res.status).toBe(403);
    expect(res.json()).toEqual([{ token: 'access_denied', message: expect.stringContaining('org 2') }]);
  });

  it('serves each configured org its own data, scoped in hrefs', async () => {
    const multi = await startSimulator({ orgs: [1, 3], dataset: { workloads: 5 } });
    try {
      const one = (await call(multi, '/orgs/1/workloads')).json<Workload[]>();
      const three = (await call(multi, '/orgs/3/workloads')).json<Workload[]>();
      expect(three.every((w) => w.href.startsWith('/orgs/3/workloads/'))).toBe(true);
      expect(three.flatMap((w) => w.labels).every((l) => l.href.startsWith('/orgs/3/labels/'))).toBe(true);
      expect(three.map((w) => w.hostname)).not.toEqual(one.map((w) => w.hostname));
      expect((await call(multi, '/orgs/2/workloads')).status).toBe(403);
    } finally {
      await multi.close();
    }
  });

  it('answers 404 with a PCE error body for an unknown collection', async () => {
    const res = await call(sim, '/orgs/1/widgets', { headers: { prefer: 'respond-async' } });
    expect(res.status).toBe(404);
    expect(res.json()).toEqual([{ token: 'not_found', message: expect.stringContaining('/orgs/1/widgets') }]);
  });

  it('answers 406 invalid_uri for a filter the collection does not have, naming the known ones', async () => {
    const res = await call(sim, '/orgs/1/labels?colour=blue', { headers: { prefer: 'respond-async' } });
    expect(res.status).toBe(406);
    const [error] = res.json<{ token: string; message: string }[]>();
    expect(error?.token).toBe('invalid_uri');
    expect(error?.message).toContain('colour');
    expect(error?.message).toContain('key');
  });

  it('answers 405 for a method a route does not take', async () => {
    const res = await call(sim, '/orgs/1/workloads', { method: 'POST', body: '{}' });
    expect(res.status).toBe(405);
    expect(res.json<{ token: string }[]>()[0]?.token).toBe('method_not_allowed');
  });
});

describe('non-org endpoints', () => {
  it('answers /health and /product_version for authenticated callers', async () => {
    const health = await call(sim, '/health');
    expect(health.status).toBe(200);
    expect(health.json<{ status: string }[]>()[0]?.status).toBe('normal');
    const version = await call(sim, '/product_version');
    expect(version.json<{ version: string }>().version).toMatch(/^\d+\.\d+\.\d+$/);
    expect((await call(sim, '/health', { anonymous: true })).status).toBe(401);
  });
});

describe('synchronous collection GET', () => {
  it('returns at most 500 objects with the full count in X-Total-Count', async () => {
    const res = await call(sim, '/orgs/1/workloads');
    expect(res.status).toBe(200);
    expect(res.header('x-total-count')).toBe('1200');
    expect(res.json<unknown[]>()).toHaveLength(500);
  });

  it('applies max_results', async () => {
    const res = await call(sim, '/orgs/1/workloads?max_results=7');
    expect(res.json<unknown[]>()).toHaveLength(7);
    expect(res.header('x-total-count')).toBe('1200');
  });

  it('filters labels by key', async () => {
    const res = await call(sim, '/orgs/1/labels?key=env');
    const labels = res.json<Label[]>();
    expect(labels).toHaveLength(10);
    expect(res.header('x-total-count')).toBe('10');
    expect(new Set(labels.map((l) => l.key))).toEqual(new Set(['env']));
    expect(labels.map((l) => l.value)).toContain('Production');
  });

  it('filters workloads by managed=true and managed=false, which partition the collection', async () => {
    const managed = await call(sim, '/orgs/1/workloads?managed=true');
    const unmanaged = await call(sim, '/orgs/1/workloads?managed=false');
    const m = Number(managed.header('x-total-count'));
    const u = Number(unmanaged.header('x-total-count'));
    expect(m + u).toBe(1200);
    expect(m).toBeGreaterThan(u);
    expect(u).toBeGreaterThan(0);
    expect(managed.json<Workload[]>().every((w) => w.managed)).toBe(true);
    expect(unmanaged.json<Workload[]>().every((w) => !w.managed)).toBe(true);
  });

  it('filters workloads by a labels expression (OR of AND groups of hrefs)', async () => {
    const env = (await call(sim, '/orgs/1/labels?key=env&value=Production')).json<Label[]>()[0];
    expect(env).toBeDefined();
    const href = env?.href ?? '';
    const res = await call(sim, `/orgs/1/workloads?labels=${encodeURIComponent(JSON.stringify([[href]]))}`);
    const workloads = res.json<Workload[]>();
    expect(workloads.length).toBeGreaterThan(0);
    expect(workloads.every((w) => w.labels.some((l) => l.href === href))).toBe(true);
  });

  it('rejects a malformed filter value with 406', async () => {
    const res = await call(sim, '/orgs/1/workloads?managed=maybe');
    expect(res.status).toBe(406);
    expect(res.text).toContain('managed');
  });

  it('serves realistic workload objects whose label refs resolve', async () => {
    const workloads = (await call(sim, '/orgs/1/workloads?max_results=50')).json<Workload[]>();
    const labels = new Set((await call(sim, '/orgs/1/labels')).json<Label[]>().map((l) => l.href));
    for (const w of workloads) {
      expect(w.href).toMatch(new RegExp(`^/orgs/1/workloads/${UUID}$`));
      expect(w.hostname).toMatch(/^[a-z0-9-]+\.[a-z0-9.-]+$/);
      expect(w.interfaces[0]?.address).toMatch(/^10\.\d+\.\d+\.\d+$/);
      expect(w.created_at).toMatch(ISO);
      expect(Date.parse(w.updated_at)).toBeGreaterThanOrEqual(Date.parse(w.created_at));
      for (const l of w.labels) expect(labels.has(l.href)).toBe(true);
    }
    expect(new Set(workloads.map((w) => w.href)).size).toBe(50);
  });

  it.each([
    ['/orgs/1/services', /^\/orgs\/1\/sec_policy\/draft\/services\/\d+$/],
    ['/orgs/1/sec_policy/active/services', /^\/orgs\/1\/sec_policy\/active\/services\/\d+$/],
    ['/orgs/1/ip_lists', /^\/orgs\/1\/sec_policy\/draft\/ip_lists\/\d+$/],
    ['/orgs/1/label_groups', new RegExp(`^/orgs/1/sec_policy/draft/label_groups/${UUID}$`)],
    ['/orgs/1/sec_policy/draft/rule_sets', /^\/orgs\/1\/sec_policy\/draft\/rule_sets\/\d+$/],
    ['/orgs/1/sec_policy/active/rule_sets', /^\/orgs\/1\/sec_policy\/active\/rule_sets\/\d+$/],
  ])('serves %s with PCE-shaped hrefs', async (path, hrefPattern) => {
    const res = await call(sim, path);
    expect(res.status).toBe(200);
    const objects = res.json<{ href: string; created_at: string }[]>();
    expect(objects.length).toBeGreaterThan(0);
    expect(Number(res.header('x-total-count'))).toBe(objects.length);
    for (const o of objects) {
      expect(o.href).toMatch(hrefPattern);
      expect(o.created_at).toMatch(ISO);
    }
  });
});

describe('async job flow', () => {
  it('goes 202 → pending → running → done → datafile → delete → 404', async () => {
    // On the manual clock, stepped by each poll: every phase is seen however busy the machine is.
    const still = await startSimulator({
      clock: 'manual',
      jobDurationMs: 1000,
      dataset: { workloads: 1200 },
    });
    onTestFinished(() => still.close());
    const submitted = await call(still, '/orgs/1/workloads?managed=true', {
      headers: { prefer: 'respond-async' },
    });
    expect(submitted.status).toBe(202);
    expect(submitted.bytes).toHaveLength(0);
    expect(submitted.header('retry-after')).toBe('1');
    const location = submitted.header('location') ?? '';
    expect(location).toMatch(new RegExp(`^/orgs/1/jobs/${UUID}$`));

    const first = await call(still, location);
    expect(first.json<JobJson>().status).toBe('pending');
    expect(first.header('retry-after')).toBe('1');

    const { final, seen } = await stepUntilSettled<JobJson>(still, location, 100);
    expect(seen).toEqual(['pending', 'running', 'done']);
    expect(final).toMatchObject({
      href: location,
      job_type: JOB_TYPE,
      description: '/orgs/1/workloads?managed=true',
      status: 'done',
      requested_by: { href: '/users/1' },
      created_by: { href: '/users/1' },
    });
    expect(final.result.href).toMatch(new RegExp(`^/orgs/1/datafiles/${UUID}$`));
    expect(final.requested_at).toMatch(ISO);
    expect(Date.parse(final.terminated_at ?? '')).toBeGreaterThan(Date.parse(final.requested_at));
    const done = await call(still, location);
    expect(done.header('retry-after')).toBeUndefined();

    const datafile = await call(still, final.result.href ?? '');
    expect(datafile.status).toBe(200);
    expect(datafile.header('content-type')).toBe('application/json');
    const workloads = datafile.json<Workload[]>();
    const sync = await call(still, '/orgs/1/workloads?managed=true');
    expect(workloads).toHaveLength(Number(sync.header('x-total-count')));
    expect(workloads.every((w) => w.managed)).toBe(true);

    const deleted = await call(still, location, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    expect((await call(still, location)).status).toBe(404);
    expect((await call(still, location, { method: 'DELETE' })).status).toBe(404);
    expect((await call(still, final.result.href ?? '')).status).toBe(404);
  });

  it('has no result and no terminated_at while the job runs', async () => {
    const href = await submit(sim, '/orgs/1/labels');
    const job = (await call(sim, href)).json<JobJson>();
    expect(job.result).toEqual({});
    expect(job).not.toHaveProperty('terminated_at');
    expect(job.description).toBe('/orgs/1/labels');
  });

  it('serves the whole filtered collection beyond the sync limit as one compact JSON array', async () => {
    const href = await submit(sim, '/orgs/1/workloads');
    const { final } = await pollUntilSettled<JobJson>(sim, href);
    const res = await call(sim, final.result.href ?? '', { headers: { 'accept-encoding': 'identity' } });
    const parsed = res.json<Workload[]>();
    expect(parsed).toHaveLength(1200);
    expect(res.text).toBe(`[${parsed.map((w) => JSON.stringify(w)).join(',')}]`);
    const sync = (await call(sim, '/orgs/1/workloads?max_results=3')).json<Workload[]>();
    expect(parsed.slice(0, 3)).toEqual(sync);
  });

  it('gzips the datafile when Accept-Encoding allows it; gunzipped it equals the identity download', async () => {
    const href = await submit(sim, '/orgs/1/workloads');
    const { final } = await pollUntilSettled<JobJson>(sim, href);
    const plain = await call(sim, final.result.href ?? '', { headers: { 'accept-encoding': 'identity' } });
    const gz = await call(sim, final.result.href ?? '', { headers: { 'accept-encoding': 'gzip, deflate' } });
    const refused = await call(sim, final.result.href ?? '', { headers: { 'accept-encoding': 'gzip;q=0' } });
    expect(plain.header('content-encoding')).toBeUndefined();
    expect(refused.header('content-encoding')).toBeUndefined();
    expect(gz.header('content-encoding')).toBe('gzip');
    expect(gz.bytes.length).toBeLessThan(plain.bytes.length / 4);
    expect(gz.text).toBe(plain.text);
    expect(gz.json<unknown[]>()).toHaveLength(1200);
  });

  it('serves byte-identical datafiles for the same seed and different ones for another seed', async () => {
    const download = async (s: RunningSimulator) => {
      const href = await submit(s, '/orgs/1/workloads');
      const { final } = await pollUntilSettled<JobJson>(s, href);
      return (await call(s, final.result.href ?? '')).bytes;
    };
    const [a, b, c] = await Promise.all(
      [7, 7, 8].map((seed) => startSimulator({ seed, jobDurationMs: 0, dataset: { workloads: 300 } })),
    );
    try {
      if (!a || !b || !c) throw new Error('simulators did not start');
      const first = await download(a);
      expect((await download(a)).equals(first)).toBe(true);
      expect((await download(b)).equals(first)).toBe(true);
      expect((await download(c)).equals(first)).toBe(false);
    } finally {
      await Promise.all([a?.close(), b?.close(), c?.close()]);
    }
  });

  it('lists jobs newest first and honours max_results and job_type', async () => {
    const older = await submit(sim, '/orgs/1/labels?key=role');
    const newer = await submit(sim, '/orgs/1/labels?key=loc');
    const all = (await call(sim, '/orgs/1/jobs')).json<JobJson[]>();
    expect(all.map((j) => j.href).indexOf(newer)).toBeLessThan(all.map((j) => j.href).indexOf(older));
    const one = (await call(sim, '/orgs/1/jobs?max_results=1')).json<JobJson[]>();
    expect(one.map((j) => j.href)).toEqual([newer]);
    const typed = await call(sim, `/orgs/1/jobs?job_type=${encodeURIComponent(JOB_TYPE)}`);
    expect(typed.json<JobJson[]>().length).toBe(all.length);
    expect((await call(sim, '/orgs/1/jobs?job_type=other')).json()).toEqual([]);
  });

  it('sends an absolute Location when locationStyle is absolute', async () => {
    const abs = await startSimulator({ locationStyle: 'absolute', jobDurationMs: 0 });
    try {
      const location = await submit(abs, '/orgs/1/labels');
      expect(location).toMatch(new RegExp(`^${abs.url}/api/v2/orgs/1/jobs/${UUID}$`));
    } finally {
      await abs.close();
    }
  });
});

describe('request recording', () => {
  it('records method, path, query, lowercased headers (Authorization included), endpoint and status', async () => {
    sim.requests.length = 0;
    await call(sim, '/orgs/1/labels?key=env', { headers: { Prefer: 'respond-async', 'X-Trace': 'abc' } });
    await call(sim, '/orgs/1/labels', { anonymous: true });
    const [submitted, rejected] = sim.requests;
    expect(submitted).toMatchObject({
      method: 'GET',
      path: '/api/v2/orgs/1/labels',
      query: { key: 'env' },
      endpoint: 'submit',
      status: 202,
    });
    expect(submitted?.headers.authorization).toBe(
      basicAuth(sim.credentials.apiKey, sim.credentials.apiSecret),
    );
    expect(submitted?.headers.prefer).toBe('respond-async');
    expect(submitted?.headers['x-trace']).toBe('abc');
    expect(submitted?.time).toBeGreaterThan(Date.now() - 10_000);
    expect(rejected).toMatchObject({ status: 401, endpoint: 'collection' });
    expect(rejected?.headers).not.toHaveProperty('authorization');
  });
});

describe('TLS', () => {
  it('serves HTTPS with a certificate that chains to the generated CA, and only to it', async () => {
    const secure = await startSimulator({ tls: true });
    const trusting = new Agent({ connect: { ca: secure.caPem } });
    try {
      expect(secure.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(secure.caPem).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
      const ok = await call(secure, '/orgs/1/labels?max_results=1', { dispatcher: trusting });
      expect(ok.status).toBe(200);
      await expect(call(secure, '/orgs/1/labels')).rejects.toThrow(/certificate|self[- ]signed|issuer/i);
    } finally {
      await trusting.close();
      await secure.close();
    }
  });
});

describe('traffic accounting', () => {
  it('counts the bytes it sent, at least every body byte of a response', async () => {
    const before = sim.bytesSent();

    const res = await call(sim, '/orgs/1/workloads?max_results=200');

    const sent = sim.bytesSent() - before;
    expect(res.status).toBe(200);
    expect(sent).toBeGreaterThanOrEqual(Buffer.byteLength(res.text));
    expect(sent).toBeLessThan(Buffer.byteLength(res.text) + 4096);
  });
});
