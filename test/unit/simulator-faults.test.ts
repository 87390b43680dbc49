import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fault, type RunningSimulator, startSimulator } from '../../simulator';
import { basicAuth, call, type JobJson, pollUntilSettled, submit } from './simulator-helpers';

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({ jobDurationMs: 100, dataset: { workloads: 400 } });
});
afterEach(() => sim.faults.clear());
afterAll(() => sim.close());

async function doneJob(path = '/orgs/1/labels'): Promise<JobJson> {
  const href = await submit(sim, path);
  return (await pollUntilSettled<JobJson>(sim, href)).final;
}

describe('selection', () => {
  it('hits the nth matching call and the following ones up to times, counted per endpoint', async () => {
    const href = await submit(sim, '/orgs/1/labels');
    const handle = sim.faults.add(fault.respond(500, { endpoint: 'job', nth: 2, times: 2 }));
    await call(sim, '/orgs/1/labels'); // another endpoint: not counted
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(sim, href)).status);
    expect(statuses).toEqual([200, 500, 500, 200]);
    expect(handle.seen).toBe(4);
    expect(handle.hits).toBe(2);
  });

  it('hits every call with times: Infinity until removed', async () => {
    const handle = sim.faults.add(
      fault.respond(503, { endpoint: 'collection', times: Number.POSITIVE_INFINITY }),
    );
    for (let i = 0; i < 3; i++) expect((await call(sim, '/orgs/1/labels')).status).toBe(503);
    handle.remove();
    expect((await call(sim, '/orgs/1/labels')).status).toBe(200);
  });

  it("matches every endpoint with 'any' and accepts faults in the options", async () => {
    const other = await startSimulator({ faults: [fault.respond(502, { times: 2 })] });
    try {
      expect((await call(other, '/orgs/1/labels')).status).toBe(502);
      expect((await call(other, '/orgs/1/jobs')).status).toBe(502);
      expect((await call(other, '/orgs/1/jobs')).status).toBe(200);
      expect(other.faults.active).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  it('rejects a fault with an invalid selector', () => {
    expect(() => sim.faults.add(fault.respond(500, { nth: 0 }))).toThrow(TypeError);
    expect(() => sim.faults.add({ kind: 'job-fails', endpoint: 'job' as 'submit' })).toThrow(/endpoint/);
  });
});

describe('respond, reset and delay', () => {
  it('answers the status with a PCE error body and the given Retry-After', async () => {
    sim.faults.add(fault.respond(429, { endpoint: 'submit', retryAfter: 7 }));
    const res = await call(sim, '/orgs/1/labels', { headers: { prefer: 'respond-async' } });
    expect(res.status).toBe(429);
    expect(res.header('retry-after')).toBe('7');
    expect(res.json()).toEqual([{ token: 'too_many_requests', message: expect.any(String) }]);
  });

  it('answers a verbatim body with the given headers', async () => {
    sim.faults.add(
      fault.respond(502, {
        endpoint: 'job',
        body: '<html>Bad Gateway</html>',
        headers: { 'content-type': 'text/html' },
      }),
    );
    const href = await submit(sim, '/orgs/1/labels');
    const res = await call(sim, href);
    expect(res.status).toBe(502);
    expect(res.header('content-type')).toBe('text/html');
    expect(res.text).toBe('<html>Bad Gateway</html>');
  });

  it('resets the connection without a response', async () => {
    sim.faults.add(fault.reset({ endpoint: 'submit' }));
    await expect(call(sim, '/orgs/1/labels', { headers: { prefer: 'respond-async' } })).rejects.toThrow();
    expect((await call(sim, '/orgs/1/labels', { headers: { prefer: 'respond-async' } })).status).toBe(202);
  });

  it('delays the response', async () => {
    sim.faults.add(fault.delay(250, { endpoint: 'jobs' }));
    const started = Date.now();
    const res = await call(sim, '/orgs/1/jobs');
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
  });
});

describe('Retry-After variants', () => {
  async function submittedRetryAfter(): Promise<string | undefined> {
    const res = await call(sim, '/orgs/1/labels', { headers: { prefer: 'respond-async' } });
    expect(res.status).toBe(202);
    return res.header('retry-after');
  }

  it('leaves it out', async () => {
    sim.faults.add(fault.retryAfterMissing());
    expect(await submittedRetryAfter()).toBeUndefined();
  });

  it('sends an HTTP-date in the future', async () => {
    sim.faults.add(fault.retryAfterHttpDate(30));
    const value = (await submittedRetryAfter()) ?? '';
    expect(value).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    expect(Date.parse(value)).toBeGreaterThan(Date.now() + 20_000);
  });

  it.each([
    ['garbage', fault.retryAfterGarbage(), 'soon-ish'],
    ['negative', fault.retryAfterNegative(), '-5'],
    ['huge', fault.retryAfterHuge(), '999999999'],
    ['zero', fault.retryAfter(0), '0'],
  ])('sends a %s value', async (_name, f, expected) => {
    sim.faults.add(f);
    expect(await submittedRetryAfter()).toBe(expected);
  });

  it('changes the Retry-After of a poll', async () => {
    const href = await submit(sim, '/orgs/1/labels');
    sim.faults.add(fault.retryAfter('abc', { endpoint: 'job' }));
    const res = await call(sim, href);
    expect(['pending', 'running']).toContain(res.json<JobJson>().status);
    expect(res.header('retry-after')).toBe('abc');
  });
});

describe('Location variants', () => {
  async function location(): Promise<string | undefined> {
    const res = await call(sim, '/orgs/1/labels', { headers: { prefer: 'respond-async' } });
    expect(res.status).toBe(202);
    return res.header('location');
  }

  it('sends an absolute URL that can be polled', async () => {
    sim.faults.add(fault.locationAbsolute());
    const loc = (await location()) ?? '';
    expect(loc.startsWith(`${sim.url}/api/v2/orgs/1/jobs/`)).toBe(true);
    const res = await request(loc, {
      headers: { authorization: basicAuth(sim.credentials.apiKey, sim.credentials.apiSecret) },
    });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  });

  it('sends a relative href', async () => {
    sim.faults.add(fault.locationRelative());
    expect(await location()).toMatch(/^\/orgs\/1\/jobs\/[0-9a-f-]{36}$/);
  });

  it('leaves Location out', async () => {
    sim.faults.add(fault.locationNone());
    expect(await location()).toBeUndefined();
  });

  it('fills a custom template: off-origin, another org, traversal', async () => {
    const port = new URL(sim.url).port;
    sim.faults.add(fault.locationCustom(`http://127.0.0.2:${port}/api/v2/orgs/1/jobs/{id}`));
    sim.faults.add(fault.locationCustom('/orgs/7/jobs/{id}', { nth: 2 }));
    sim.faults.add(fault.locationCustom('{url}/api/v2/orgs/{org}/jobs/../../../etc/passwd', { nth: 3 }));
    expect(await location()).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.2:${port}/api/v2/orgs/1/jobs/[0-9a-f-]{36}$`),
    );
    expect(await location()).toMatch(/^\/orgs\/7\/jobs\/[0-9a-f-]{36}$/);
    expect(await location()).toBe(`${sim.url}/api/v2/orgs/1/jobs/../../../etc/passwd`);
  });
});

describe('job fates', () => {
  it('fails the job with a message', async () => {
    sim.faults.add(fault.jobFails('Export exceeded the time limit'));
    const job = await doneJob();
    expect(job.status).toBe('failed');
    expect(job.result).toEqual({ message: 'Export exceeded the time limit' });
    expect(job.terminated_at).toBeDefined();
  });

  it.each(['cancelled', 'exploded'])('ends the job with status %s', async (status) => {
    sim.faults.add(fault.jobStatus(status));
    const job = await doneJob();
    expect(job.status).toBe(status);
    expect(job.result).toEqual({});
  });

  it('makes the job vanish after the given number of polls', async () => {
    sim.faults.add(fault.jobVanishes({ afterPolls: 1 }));
    const href = await submit(sim, '/orgs/1/labels');
    expect((await call(sim, href)).status).toBe(200);
    const gone = await call(sim, href);
    expect(gone.status).toBe(404);
    expect(gone.json<{ token: string }[]>()[0]?.token).toBe('not_found');
    expect((await call(sim, href, { method: 'DELETE' })).status).toBe(404);
  });

  it('keeps the job running forever', async () => {
    sim.faults.add(fault.jobNeverFinishes());
    const href = await submit(sim, '/orgs/1/labels');
    await new Promise((r) => setTimeout(r, 250));
    const res = await call(sim, href);
    expect(res.json<JobJson>().status).toBe('running');
    expect(res.header('retry-after')).toBe('1');
  });

  it('reports another result href while the real datafile stays available', async () => {
    sim.faults.add(fault.resultHref('/orgs/1/datafiles/../../secrets/{id}'));
    const href = await submit(sim, '/orgs/1/labels');
    const job = (await pollUntilSettled<JobJson>(sim, href)).final;
    expect(job.status).toBe('done');
    const id = /\/secrets\/(.+)$/.exec(job.result.href ?? '')?.[1] ?? '';
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await call(sim, `/orgs/1/datafiles/${id}`)).status).toBe(200);
  });

  it('only affects the job created by the hit submit', async () => {
    sim.faults.add(fault.jobFails(undefined, { nth: 2 }));
    const first = await submit(sim, '/orgs/1/labels');
    const second = await submit(sim, '/orgs/1/labels');
    expect((await pollUntilSettled<JobJson>(sim, first)).final.status).toBe('done');
    const failed = (await pollUntilSettled<JobJson>(sim, second)).final;
    expect(failed.status).toBe('failed');
    expect(failed.result.message).toMatch(/time limit/);
  });
});

describe('body faults', () => {
  it('sends the body slowly at the given rate, complete', async () => {
    const job = await doneJob('/orgs/1/workloads?max_results=20');
    const normal = await call(sim, job.result.href ?? '');
    sim.faults.add(fault.slowBody(Math.ceil(normal.bytes.length / 0.5)));
    const started = Date.now();
    const slow = await call(sim, job.result.href ?? '');
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(slow.text).toBe(normal.text);
  });

  it('cuts the body after the given number of bytes by destroying the socket', async () => {
    const job = await doneJob('/orgs/1/workloads');
    sim.faults.add(fault.cutBody(10_000));
    const res = await request(`${sim.url}/api/v2${job.result.href}`, {
      headers: { authorization: basicAuth(sim.credentials.apiKey, sim.credentials.apiSecret) },
    });
    expect(res.statusCode).toBe(200);
    let received = 0;
    const consume = async () => {
      for await (const chunk of res.body) received += (chunk as Buffer).length;
    };
    await expect(consume()).rejects.toThrow();
    expect(received).toBe(10_000);
  });

  it('sends malformed JSON with a 200 and a JSON content type', async () => {
    const href = await submit(sim, '/orgs/1/labels');
    sim.faults.add(fault.malformedJson());
    const res = await call(sim, href);
    expect(res.status).toBe(200);
    expect(res.header('content-type')).toBe('application/json');
    expect(res.text.startsWith('{"href":"/orgs/1/jobs/')).toBe(true);
    expect(() => JSON.parse(res.text)).toThrow(SyntaxError);
  });

  it('sends malformed JSON in place of a datafile', async () => {
    const job = await doneJob('/orgs/1/workloads');
    sim.faults.add(fault.malformedJson({ endpoint: 'datafile' }));
    const res = await call(sim, job.result.href ?? '');
    expect(res.status).toBe(200);
    expect(res.text.startsWith('[{"href":')).toBe(true);
    expect(() => JSON.parse(res.text)).toThrow(SyntaxError);
  });

  it('sends an empty body', async () => {
    const href = await submit(sim, '/orgs/1/labels');
    sim.faults.add(fault.emptyBody());
    const res = await call(sim, href);
    expect(res.status).toBe(200);
    expect(res.header('content-length')).toBe('0');
    expect(res.bytes).toHaveLength(0);
  });

  it('sends another content type, with a replacement body when given', async () => {
    const href = await submit(sim, '/orgs/1/labels');
    sim.faults.add(fault.contentType('text/plain'));
    sim.faults.add(fault.contentType('text/html', { nth: 2, body: '<html>Sign in</html>' }));
    const kept = await call(sim, href);
    expect(kept.header('content-type')).toBe('text/plain');
    expect(kept.json<JobJson>().href).toBe(href);
    const replaced = await call(sim, href);
    expect(replaced.header('content-type')).toBe('text/html');
    expect(replaced.text).toBe('<html>Sign in</html>');
  });
});
