/**
 * A PCE restart, on the simulator's manual clock: outages, resets, refused connections,
 * maintenance windows and 429 storms, opened and closed by advancing the clock, never by waiting.
 */
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fault, type RunningSimulator, startSimulator } from '../../simulator';
import { call, type JobJson, submit } from './simulator-helpers';

let sim: RunningSimulator;

beforeAll(async () => {
  // A job takes 10 s of simulated time; nothing moves unless the test advances the clock.
  sim = await startSimulator({ clock: 'manual', jobDurationMs: 10_000, dataset: { workloads: 50 } });
});
afterEach(() => sim.faults.clear());
afterAll(() => sim.close());

const HTTP_DATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

async function status(href: string): Promise<number> {
  return (await call(sim, href)).status;
}

/** Resolves with the connect error code, or 'connected'. */
function tryConnect(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe('outage', () => {
  it('answers 503 on polls for the window while the job keeps running and finishes', async () => {
    const href = await submit(sim, '/orgs/1/labels');
    const outage = sim.faults.add(fault.outage({ forMs: 45_000 }, { endpoint: 'job' }));
    const during = await call(sim, href);
    expect(during.status).toBe(503);
    expect(during.json()).toEqual([{ token: 'service_unavailable', message: expect.any(String) }]);
    expect((await call(sim, '/orgs/1/labels', { headers: { prefer: 'respond-async' } })).status).toBe(202);

    await sim.clock.advance(44_999);
    expect(await status(href)).toBe(503);
    await sim.clock.advance(1);
    const after = await call(sim, href);
    expect(after.status).toBe(200);
    expect(after.json<JobJson>().status).toBe('done');
    expect(outage.hits).toBe(2);
    expect(outage.closesAt).toBe((outage.opensAt ?? 0) + 45_000);
  });

  it('opens 5 s after the first submit and lasts 45 s, on polls only', async () => {
    const earlier = await submit(sim, '/orgs/1/labels');
    const outage = sim.faults.add(
      fault.outage({ from: { request: 'submit' }, afterMs: 5_000, forMs: 45_000 }, { endpoint: 'job' }),
    );
    expect(await status(earlier)).toBe(200);
    expect(outage.opensAt).toBeUndefined();

    const href = await submit(sim, '/orgs/1/labels');
    expect(outage.opensAt).toBe(sim.clock.now() + 5_000);
    expect(await status(href)).toBe(200);
    await sim.clock.advance(5_000);
    expect(await status(href)).toBe(503);
    expect(await status(earlier)).toBe(503);
    await sim.clock.advance(45_000);
    expect(await status(href)).toBe(200);
  });

  it('opens at the nth matching request when asked', async () => {
    const href = await submit(sim, '/orgs/1/labels');
    sim.faults.add(fault.outage({ from: { request: 'job', nth: 3 }, forMs: 1_000 }, { endpoint: 'job' }));
    expect([await status(href), await status(href), await status(href), await status(href)]).toEqual([
      200, 200, 503, 503,
    ]);
    await sim.clock.advance(1_000);
    expect(await status(href)).toBe(200);
  });

  it('counts a window from the simulator start', async () => {
    const other = await startSimulator({
      clock: 'manual',
      faults: [fault.outage({ from: 'start', afterMs: 1_000, forMs: 2_000 }, { status: 502 })],
    });
    try {
      expect((await call(other, '/orgs/1/labels')).status).toBe(200);
      await other.clock.advance(1_000);
      const down = await call(other, '/orgs/1/labels');
      expect(down.status).toBe(502);
      expect(down.header('content-type')).toBe('text/html');
      expect(down.text).toContain('502 Bad Gateway');
      await other.clock.advance(2_000);
      expect((await call(other, '/orgs/1/labels')).status).toBe(200);
    } finally {
      await other.close();
    }
  });

  it('sends Retry-After in seconds, as an HTTP-date, or not at all', async () => {
    sim.faults.add(fault.outage({ forMs: 1_000 }, { endpoint: 'jobs', retryAfter: 20 }));
    sim.faults.add(
      fault.outage({ forMs: 1_000 }, { endpoint: 'collection', retryAfter: { httpDateInSeconds: 30 } }),
    );
    sim.faults.add(fault.outage({ forMs: 1_000 }, { endpoint: 'other', status: 504, body: 'empty' }));
    const seconds = await call(sim, '/orgs/1/jobs');
    const date = await call(sim, '/orgs/1/labels');
    const none = await call(sim, '/health');
    expect(seconds.header('retry-after')).toBe('20');
    expect(date.header('retry-after')).toMatch(HTTP_DATE);
    expect(Date.parse(date.header('retry-after') ?? '')).toBeGreaterThan(Date.now() + 20_000);
    expect(none.status).toBe(504);
    expect(none.header('retry-after')).toBeUndefined();
    expect(none.bytes).toHaveLength(0);
  });

  it('hits the traffic endpoints too', async () => {
    sim.faults.add(
      fault.outage({ forMs: 30_000 }, { endpoint: ['traffic-submit', 'traffic-list'], status: 502 }),
    );
    const body = JSON.stringify({
      query_name: 'outage',
      start_date: '2026-01-01T00:00:00Z',
      end_date: '2026-01-02T00:00:00Z',
      max_results: 10,
    });
    const headers = { 'content-type': 'application/json' };
    expect(
      (await call(sim, '/orgs/1/traffic_flows/async_queries', { method: 'POST', body, headers })).status,
    ).toBe(502);
    expect((await call(sim, '/orgs/1/traffic_flows/async_queries')).status).toBe(502);
    await sim.clock.advance(30_000);
    expect(
      (await call(sim, '/orgs/1/traffic_flows/async_queries', { method: 'POST', body, headers })).status,
    ).toBe(202);
  });

  it('answers before authentication, as the front end does', async () => {
    sim.faults.add(fault.outage({ forMs: 1_000 }));
    expect((await call(sim, '/orgs/1/labels', { anonymous: true })).status).toBe(503);
  });
});

describe('resets', () => {
  it('resets every matching connection during the window, then answers again', async () => {
    const href = await submit(sim, '/orgs/1/labels');
    sim.faults.add(fault.resets({ forMs: 40_000 }, { endpoint: 'job' }));
    await expect(call(sim, href)).rejects.toThrow();
    await expect(call(sim, href)).rejects.toThrow();
    expect((await call(sim, '/orgs/1/jobs')).status).toBe(200);
    await sim.clock.advance(40_000);
    expect((await call(sim, href)).json<JobJson>().status).toBe('done');
  });
});

describe('refused connections', () => {
  it('stops listening for the window, then listens again on the same port', async () => {
    const url = sim.url;
    const href = await submit(sim, '/orgs/1/labels');
    sim.faults.add(fault.refuse({ forMs: 30_000 }));
    await sim.clock.advance(0);
    expect(await tryConnect(url)).toBe('ECONNREFUSED');
    await sim.clock.advance(29_999);
    expect(await tryConnect(url)).toBe('ECONNREFUSED');
    await sim.clock.advance(1);
    expect(sim.url).toBe(url);
    expect(await tryConnect(url)).toBe('connected');
    // The job survived the restart and finished meanwhile.
    expect((await call(sim, href)).json<JobJson>().status).toBe('done');
  });

  it('cuts the request that starts the window and refuses the next connections', async () => {
    const href = await submit(sim, '/orgs/1/labels');
    sim.faults.add(fault.refuse({ from: { request: 'job' }, forMs: 10_000 }));
    await expect(call(sim, href)).rejects.toThrow();
    await sim.clock.advance(0);
    expect(await tryConnect(sim.url)).toBe('ECONNREFUSED');
    await sim.clock.advance(10_000);
    expect(await status(href)).toBe(200);
  });

  it('comes back when the fault is removed before its window ends', async () => {
    const handle = sim.faults.add(fault.refuse({ forMs: Number.POSITIVE_INFINITY }));
    await sim.clock.advance(0);
    expect(await tryConnect(sim.url)).toBe('ECONNREFUSED');
    handle.remove();
    await sim.clock.advance(0);
    expect(await tryConnect(sim.url)).toBe('connected');
  });

  it('comes back on its own with the system clock', async () => {
    const other = await startSimulator();
    try {
      other.faults.add(fault.refuse({ forMs: 60_000 }));
      await other.clock.advance(0);
      expect(await tryConnect(other.url)).toBe('ECONNREFUSED');
      await other.clock.advance(60_000);
      expect((await call(other, '/orgs/1/labels')).status).toBe(200);
    } finally {
      await other.close();
    }
  });
});

describe('maintenance', () => {
  it('answers every endpoint 503 with a maintenance page, credentials or not', async () => {
    const href = await submit(sim, '/orgs/1/labels');
    sim.faults.add(fault.maintenance({ forMs: 40_000 }, { retryAfter: 60 }));
    for (const res of [
      await call(sim, href),
      await call(sim, '/orgs/1/labels', { headers: { prefer: 'respond-async' } }),
      await call(sim, '/orgs/1/workloads', { anonymous: true }),
      await call(sim, '/product_version'),
    ]) {
      expect(res.status).toBe(503);
      expect(res.header('content-type')).toBe('text/html');
      expect(res.text).toContain('The PCE is undergoing maintenance');
      expect(res.header('retry-after')).toBe('60');
    }
    await sim.clock.advance(40_000);
    expect((await call(sim, href)).json<JobJson>().status).toBe('done');
  });

  it('can answer with a PCE JSON error instead', async () => {
    sim.faults.add(fault.maintenance({ forMs: 1_000 }, { body: 'json' }));
    const res = await call(sim, '/orgs/1/labels');
    expect(res.json()).toEqual([{ token: 'maintenance', message: expect.stringContaining('maintenance') }]);
    expect(res.header('retry-after')).toBeUndefined();
  });
});

describe('429 storm', () => {
  it('answers 429 with and without Retry-After for the window', async () => {
    sim.faults.add(fault.throttle({ forMs: 10_000 }, { endpoint: 'submit', retryAfter: 7 }));
    sim.faults.add(fault.throttle({ forMs: 10_000 }, { endpoint: 'collection' }));
    const withHeader = await call(sim, '/orgs/1/labels', { headers: { prefer: 'respond-async' } });
    const without = await call(sim, '/orgs/1/labels');
    expect(withHeader.status).toBe(429);
    expect(withHeader.header('retry-after')).toBe('7');
    expect(withHeader.json()).toEqual([{ token: 'too_many_requests', message: expect.any(String) }]);
    expect(without.status).toBe(429);
    expect(without.header('retry-after')).toBeUndefined();
    await sim.clock.advance(10_000);
    expect((await call(sim, '/orgs/1/labels')).status).toBe(200);
  });
});

describe('validation', () => {
  it.each([
    [{ kind: 'refuse' }, /refuse needs a window/],
    [{ kind: 'outage', window: { forMs: 0 } }, /window.forMs/],
    [{ kind: 'outage', nth: 2, window: { forMs: 10 } }, /window replaces nth and times/],
    [{ kind: 'outage', window: { forMs: 10, from: { request: 'polls' } } }, /window.from.request "polls"/],
    [{ kind: 'outage', status: 500, window: { forMs: 10 } }, /status must be 502, 503 or 504/],
    [{ kind: 'throttle', retryAfter: 'soon', window: { forMs: 10 } }, /retryAfter/],
  ])('rejects %j with a message naming the field', (f, message) => {
    expect(() => sim.faults.add(f as never)).toThrow(message);
  });
});
