import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Agent } from 'undici';
import { describe, expect, it } from 'vitest';
import { runSimulate } from '../../simulator/cli';
import { basicAuth } from './simulator-helpers';

function capture() {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
    },
    out: () => out,
    err: () => err,
  };
}

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('pce-export simulate', () => {
  it.each([
    [['--port', 'abc'], '--port'],
    [['--port', '70000'], '--port'],
    [['--workloads', '-5'], 'workloads'],
    [['--host', '0.0.0.0'], 'loopback'],
    [['--job-seconds', 'soon'], '--job-seconds'],
    [['--flows-per-day', '0'], '--flows-per-day'],
    [['--traffic-days', 'x'], '--traffic-days'],
    [['--frobnicate'], 'frobnicate'],
    [['extra'], 'extra'],
  ])('exits 2 with a helpful message for %j', async (argv, mention) => {
    const c = capture();
    expect(await runSimulate(argv, c.io)).toBe(2);
    expect(c.err()).toContain(mention);
    expect(c.err()).toContain('Usage: pce-export simulate');
    // stdout's one line is the error, as for the other commands.
    const { error, cause } = JSON.parse(c.out()) as { error: string; cause: string };
    expect(error).toBe('UsageError');
    expect(cause).toContain(mention);
    expect(c.out().trimEnd().split('\n')).toHaveLength(1);
  });

  it('also writes to line-writer functions (the pce-export command io)', async () => {
    const lines: string[] = [];
    const io = {
      stdout: (l: string) => lines.push(`out:${l}`),
      stderr: (l: string) => lines.push(`err:${l}`),
    };
    expect(await runSimulate(['--seed', 'x'], io)).toBe(2);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^err:pce-export simulate: --seed must be a whole number/);
    expect(lines[1]).toMatch(/^out:\{"error":"UsageError","cause":"--seed must be a whole number/);
    expect(lines.every((line) => !line.endsWith('\n'))).toBe(true);
  });

  it('prints usage and exits 0 for --help', async () => {
    const c = capture();
    expect(await runSimulate(['simulate', '--help'], c.io)).toBe(0);
    expect(c.out()).toContain('--job-seconds');
  });

  it('serves org 1 with generated credentials it prints, with a curl line, until aborted', async () => {
    const c = capture();
    const stop = new AbortController();
    const running = runSimulate(['--workloads', '1000', '--seed', '3', '--job-seconds', '0.2'], {
      ...c.io,
      signal: stop.signal,
      env: {},
    });
    await until(() => c.out().includes('"event":"ready"'));
    const out = c.out();
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] ?? '';
    const ready = JSON.parse(out.trimEnd().split('\n').at(-1) ?? '');
    const key = /api key: +(api_[0-9a-f]+)/.exec(out)?.[1] ?? '';
    const secret = /api secret: +([0-9a-f]+)/.exec(out)?.[1] ?? '';
    expect(out).toContain('1,000 workloads');
    expect(ready).toEqual({
      event: 'ready',
      url,
      apiBase: `${url}/api/v2`,
      org: 1,
      apiKey: key,
      apiSecret: secret,
    });
    expect(out).toContain(`export PCE_API_KEY=${key} PCE_API_SECRET=${secret}`);
    expect(out).toMatch(
      /curl -si -u "\$PCE_API_KEY:\$PCE_API_SECRET" .*Prefer: respond-async.* http:\/\/127\.0\.0\.1:\d+\/api\/v2\/orgs\/1\/workloads/,
    );
    const res = await fetch(`${url}/api/v2/orgs/1/workloads?max_results=1`, {
      headers: { authorization: basicAuth(key, secret) },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-total-count')).toBe('1000');
    stop.abort();
    expect(await running).toBe(0);
    expect(c.err()).toBe('Stopping the PCE simulator…\nStopped.\n');
    expect(c.out()).not.toContain('Stop');
    expect(JSON.parse(c.out().trimEnd().split('\n').at(-1) ?? '')).toEqual(ready);
    await expect(fetch(url)).rejects.toThrow();
  });

  it('serves the traffic population that --flows-per-day and --traffic-days describe', async () => {
    const c = capture();
    const stop = new AbortController();
    const running = runSimulate(
      ['--workloads', '50', '--job-seconds', '0', '--flows-per-day', '3000', '--traffic-days', '2'],
      { ...c.io, signal: stop.signal, env: {} },
    );
    await until(() => c.out().includes('"event":"ready"'));
    const ready = JSON.parse(c.out().trimEnd().split('\n').at(-1) ?? '') as Record<string, string>;
    const auth = {
      authorization: basicAuth(ready.apiKey ?? '', ready.apiSecret ?? ''),
      'content-type': 'application/json',
    };
    const now = Date.now();
    const count = async (hoursBack: number) => {
      const created = await fetch(`${ready.apiBase}/orgs/1/traffic_flows/async_queries`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({
          query_name: 'cli',
          start_date: new Date(now - (hoursBack + 24) * 3_600_000).toISOString(),
          end_date: new Date(now - hoursBack * 3_600_000).toISOString(),
          max_results: 10,
        }),
      });
      const { href } = (await created.json()) as { href: string };
      for (;;) {
        const q = (await (await fetch(`${ready.url}/api/v2${href}`, { headers: auth })).json()) as {
          status: string;
          matches_count?: number;
        };
        if (q.status === 'completed') return q.matches_count;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      expect(c.out()).toContain('3,000 flows a day over the last 2 days');
      expect(await count(0)).toBeGreaterThan(2900);
      expect(await count(0)).toBeLessThan(3300);
      expect(await count(72)).toBe(0);
    } finally {
      stop.abort();
      expect(await running).toBe(0);
    }
  });

  it('takes credentials from the environment and never prints the secret', async () => {
    const c = capture();
    const stop = new AbortController();
    const env = { PCE_API_KEY: 'api_0123456789abcdef', PCE_API_SECRET: 's3cr3t-from-env-value' };
    const running = runSimulate(['--workloads', '10', '--tls'], { ...c.io, signal: stop.signal, env });
    await until(() => c.out().includes('Press Ctrl+C'));
    const out = c.out();
    expect(out).toContain('api_0123456789abcdef');
    expect(out).not.toContain(env.PCE_API_SECRET);
    const url = /listening on (https:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] ?? '';
    const caPath = /CA: +(\S+)/.exec(out)?.[1] ?? '';
    expect(out).toContain(`--cacert ${caPath}`);
    const agent = new Agent({ connect: { ca: readFileSync(caPath, 'utf8') } });
    try {
      const { request } = await import('undici');
      const res = await request(`${url}/api/v2/orgs/1/labels?max_results=1`, {
        dispatcher: agent,
        headers: { authorization: basicAuth(env.PCE_API_KEY, env.PCE_API_SECRET) },
      });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
    } finally {
      await agent.close();
    }
    stop.abort();
    expect(await running).toBe(0);
    expect(existsSync(caPath)).toBe(false);
  });

  it('stops cleanly with exit code 0 on SIGTERM, its lifecycle lines on stderr', async () => {
    const cli = fileURLToPath(new URL('../../simulator/cli.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { runSimulate } from ${JSON.stringify(cli)}; process.exitCode = await runSimulate(['--workloads', '10']);`,
      ],
      { env: { ...process.env, PCE_API_KEY: '', PCE_API_SECRET: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await until(() => out.includes('"event":"ready"'), 20_000);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(err).toContain('Stopped.');
    // The JSON ready line is still the last line on stdout after the simulator stopped.
    expect(JSON.parse(out.trimEnd().split('\n').at(-1) ?? '')).toMatchObject({ event: 'ready' });
  });
});
