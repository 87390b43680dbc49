import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { fault, startSimulator } from '../../simulator';
import { RateLimiter } from '../../simulator/server';
import { basicAuth, call, type JobJson, pollUntilSettled, submit } from './simulator-helpers';

describe('rate limiting', () => {
  it('answers 429 too_many_requests with a Retry-After once an API key exceeds its per-minute budget', async () => {
    const sim = await startSimulator({ rateLimitPerMinute: 5 });
    try {
      for (let i = 0; i < 5; i++) expect((await call(sim, '/orgs/1/labels?max_results=1')).status).toBe(200);
      const limited = await call(sim, '/orgs/1/labels?max_results=1');
      expect(limited.status).toBe(429);
      expect(limited.json()).toEqual([
        { token: 'too_many_requests', message: expect.stringContaining('5 requests') },
      ]);
      const wait = Number(limited.header('retry-after'));
      expect(wait).toBeGreaterThanOrEqual(1);
      expect(wait).toBeLessThanOrEqual(60);
      // Authentication comes first: bad credentials are 401, not 429.
      expect((await call(sim, '/orgs/1/labels', { anonymous: true })).status).toBe(401);
    } finally {
      await sim.close();
    }
  });

  it('uses a sliding 60-second window', () => {
    const limiter = new RateLimiter(3);
    const t0 = 1_000_000;
    expect([0, 1000, 2000].map((dt) => limiter.take('api_a', t0 + dt))).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(limiter.take('api_a', t0 + 30_000)).toBe(30);
    expect(limiter.take('api_b', t0 + 30_000)).toBeUndefined();
    expect(limiter.take('api_a', t0 + 60_000)).toBeUndefined();
    expect(limiter.take('api_a', t0 + 60_500)).toBe(1);
  });

  it('can be switched off with Infinity', async () => {
    const sim = await startSimulator({ rateLimitPerMinute: Number.POSITIVE_INFINITY });
    try {
      const statuses = await Promise.all(Array.from({ length: 40 }, () => call(sim, '/orgs/1/jobs')));
      expect(statuses.every((r) => r.status === 200)).toBe(true);
    } finally {
      await sim.close();
    }
  });
});

describe('large data sets', () => {
  it('streams a 200,000-workload datafile without holding it in memory', async () => {
    const workloads = 200_000;
    const sim = await startSimulator({ jobDurationMs: 0, dataset: { workloads } });
    try {
      const href = await submit(sim, '/orgs/1/workloads');
      const { final } = await pollUntilSettled<JobJson>(sim, href);
      const res = await request(`${sim.url}/api/v2${final.result.href}`, {
        headers: { authorization: basicAuth(sim.credentials.apiKey, sim.credentials.apiSecret) },
      });
      const marker = '{"href":"/orgs/1/workloads/';
      let tail = '';
      let objects = 0;
      let bytes = 0;
      let first = '';
      let sentAtFirstChunk: number | undefined;
      for await (const chunk of res.body) {
        const text = tail + (chunk as Buffer).toString('latin1');
        bytes += (chunk as Buffer).length;
        if (!first) first = text.slice(0, 1);
        sentAtFirstChunk ??= sim.bytesSent();
        for (let at = text.indexOf(marker); at >= 0; at = text.indexOf(marker, at + 1)) objects++;
        tail = text.slice(-(marker.length - 1));
      }
      expect(res.statusCode).toBe(200);
      expect(first).toBe('[');
      expect(tail.endsWith('}]')).toBe(true);
      expect(objects).toBe(workloads);
      expect(bytes).toBeGreaterThan(200 * 1024 * 1024);
      // Streamed: the first bytes arrived while most of the body was still to be produced.
      expect(sentAtFirstChunk).toBeLessThan(bytes / 2);
    } finally {
      await sim.close();
    }
  });

  it('answers a sync GET on millions of workloads with the first 500 and the count of all', async () => {
    const sim = await startSimulator({ dataset: { workloads: 5_000_000 } });
    try {
      const res = await call(sim, '/orgs/1/workloads');
      const first = await call(sim, '/orgs/1/workloads?max_results=2');
      expect(res.header('x-total-count')).toBe('5000000');
      const workloads = res.json<{ href: string }[]>();
      expect(workloads).toHaveLength(500);
      expect(new Set(workloads.map((workload) => workload.href)).size).toBe(500);
      // The page is the start of the collection, in the order every request sees.
      expect(workloads.slice(0, 2)).toEqual(first.json());
    } finally {
      await sim.close();
    }
  });
});

describe('clients that go away', () => {
  it.each(['identity', 'gzip'])(
    'survives a client that disconnects mid-datafile (%s) and keeps serving',
    async (encoding) => {
      const sim = await startSimulator({ jobDurationMs: 0, dataset: { workloads: 50_000 } });
      try {
        const job = (await pollUntilSettled<JobJson>(sim, await submit(sim, '/orgs/1/workloads'))).final;
        const res = await request(`${sim.url}/api/v2${job.result.href}`, {
          headers: {
            authorization: basicAuth(sim.credentials.apiKey, sim.credentials.apiSecret),
            'accept-encoding': encoding,
          },
        });
        for await (const _chunk of res.body) break;
        await new Promise((r) => setTimeout(r, 50));
        const after = await call(sim, '/orgs/1/labels?max_results=1');
        expect(after.status).toBe(200);
        const download = sim.requests.find((r) => r.endpoint === 'datafile');
        expect(download?.status).toBe(200);
      } finally {
        await sim.close();
      }
    },
  );
});

describe('close', () => {
  it('stops promptly while a slow download is in flight, cutting it', async () => {
    const sim = await startSimulator({ jobDurationMs: 0, faults: [fault.slowBody(100)] });
    const job = (await pollUntilSettled<JobJson>(sim, await submit(sim, '/orgs/1/labels'))).final;
    const res = await request(`${sim.url}/api/v2${job.result.href}`, {
      headers: { authorization: basicAuth(sim.credentials.apiKey, sim.credentials.apiSecret) },
    });
    const reading = res.body.text();
    await sim.close();
    // The slow body would need minutes to finish: a close that waited for it would let it
    // complete; this one cuts it.
    await expect(reading).rejects.toThrow();
  });
});
