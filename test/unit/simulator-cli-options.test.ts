/** `pce-export simulate --faults FILE.json` (the same fault objects as the API, checked entry by entry) and `--revision N`. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faultsFromJson } from '../../simulator';
import { runSimulate } from '../../simulator/cli';
import { basicAuth } from './simulator-helpers';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sim-faults-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function file(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function capture() {
  let out = '';
  let err = '';
  let ready = () => {};
  const started = new Promise<void>((resolve) => {
    ready = resolve;
  });
  return {
    io: {
      stdout: {
        write: (s: string) => {
          out += s;
          if (out.includes('"event":"ready"')) ready();
        },
      },
      stderr: { write: (s: string) => (err += s) },
    },
    out: () => out,
    err: () => err,
    started,
  };
}

/** The README's example: 45 s of outage on polls, from 5 s after the first submit. */
const README_EXAMPLE = [
  {
    kind: 'outage',
    endpoint: 'job',
    status: 503,
    window: { from: { request: 'submit' }, afterMs: 5000, forMs: 45000 },
  },
];

describe('faultsFromJson', () => {
  it('accepts the README example and "Infinity" for times', () => {
    expect(faultsFromJson(README_EXAMPLE)).toEqual(README_EXAMPLE);
    expect(faultsFromJson([{ kind: 'reset', endpoint: 'datafile', times: 'Infinity' }])).toEqual([
      { kind: 'reset', endpoint: 'datafile', times: Number.POSITIVE_INFINITY },
    ]);
  });

  it.each([
    [{ kind: 'outage' }, /must hold a JSON array/],
    [[{ kind: 'reset' }, 'outage'], /^faults\[1\] must be an object/],
    [[{ kind: 'blackout' }], /^faults\[0\]: unknown kind "blackout" \(kinds: respond, reset/],
    [[{ kind: 'reset' }, { kind: 'outage', staus: 503 }], /^faults\[1\] \(outage\): unknown field "staus"/],
    [[{ kind: 'outage', window: { forMs: -1 } }], /^faults\[0\] \(outage\): window.forMs must be/],
    [
      [{ kind: 'outage', endpoint: 'polls' }],
      /^faults\[0\] \(outage\): endpoint "polls" is not one of submit/,
    ],
    [[{ kind: 'refuse' }], /^faults\[0\] \(refuse\): refuse needs a window/],
  ])('rejects %j, naming the entry and the field', (json, message) => {
    expect(() => faultsFromJson(json)).toThrow(message);
  });
});

describe('pce-export simulate --faults', () => {
  it('exits 2 naming the file and the bad entry', async () => {
    const path = await file('bad.json', [README_EXAMPLE[0], { kind: 'outage', window: { forMs: '45s' } }]);
    const c = capture();
    expect(await runSimulate(['--faults', path], c.io)).toBe(2);
    expect(c.err()).toContain(
      `--faults ${path}: faults[1] (outage): window.forMs must be a number of milliseconds`,
    );
    expect(JSON.parse(c.out())).toMatchObject({
      error: 'UsageError',
      cause: expect.stringContaining('faults[1]'),
    });
  });

  it.each([
    ['not JSON', '[{"kind": "outage",', /not valid JSON/],
    ['missing', undefined, /cannot read it \(ENOENT\)/],
  ])('exits 2 for a file that is %s', async (_name, content, message) => {
    const path = content === undefined ? join(dir, 'missing.json') : await file('broken.json', content);
    const c = capture();
    expect(await runSimulate(['--faults', path], c.io)).toBe(2);
    expect(c.err()).toMatch(message);
  });

  it('serves with the faults of the file from the start', async () => {
    const path = await file('faults.json', [
      ...README_EXAMPLE,
      { kind: 'outage', endpoint: 'jobs', window: { from: { request: 'submit' }, forMs: 60000 } },
    ]);
    const c = capture();
    const stop = new AbortController();
    const running = runSimulate(['--workloads', '10', '--faults', path], {
      ...c.io,
      signal: stop.signal,
      env: {},
    });
    await c.started;
    expect(c.out()).toContain(`faults:      2 from ${path} (outage, outage)`);
    const ready = JSON.parse(c.out().trimEnd().split('\n').at(-1) ?? '');
    const headers = { authorization: basicAuth(ready.apiKey, ready.apiSecret) };
    const jobs = `${ready.apiBase}/orgs/1/jobs`;
    expect((await fetch(jobs, { headers })).status).toBe(200);
    const submitted = await fetch(`${ready.apiBase}/orgs/1/labels`, {
      headers: { ...headers, prefer: 'respond-async' },
    });
    expect(submitted.status).toBe(202);
    expect((await fetch(jobs, { headers })).status).toBe(503);
    stop.abort();
    expect(await running).toBe(0);
  });
});

describe('pce-export simulate --revision', () => {
  it('starts at the revision given and changes it through the control endpoint', async () => {
    const c = capture();
    const stop = new AbortController();
    const running = runSimulate(['--workloads', '100', '--revision', '2', '--events-per-day', '24'], {
      ...c.io,
      signal: stop.signal,
      env: {},
    });
    await c.started;
    const ready = JSON.parse(c.out().trimEnd().split('\n').at(-1) ?? '');
    expect(c.out()).toContain(
      `revision:    2 (PUT ${ready.url}/_simulator/revision with {"revision": N} to change it)`,
    );
    expect(c.out()).toContain('events:      24 a day, 30 days kept (/orgs/1/events)');
    const headers = { authorization: basicAuth(ready.apiKey, ready.apiSecret) };
    const control = `${ready.url}/_simulator/revision`;
    expect(await (await fetch(control, { headers })).json()).toEqual({ revision: 2 });
    const put = await fetch(control, { method: 'PUT', headers, body: '{"revision": 5}' });
    expect(((await put.json()) as { revision: number }).revision).toBe(5);
    const events = await fetch(`${ready.apiBase}/orgs/1/events?event_type=workload.update&max_results=1`, {
      headers,
    });
    expect(((await events.json()) as unknown[]).length).toBe(1);
    stop.abort();
    expect(await running).toBe(0);
  });

  it('exits 2 for a revision that is not a whole number', async () => {
    const c = capture();
    expect(await runSimulate(['--revision', 'latest'], c.io)).toBe(2);
    expect(c.err()).toContain('--revision must be a whole number');
  });
});
