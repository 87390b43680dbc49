import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../simulator/index';
import { type CountingProxy, PROXY_SOURCE, startProxy, startTap, type Tap } from './proxy-support';

/*
 * `pce-export run --proxy URL` and HTTPS_PROXY/NO_PROXY: the same counting CONNECT proxy and tap
 * as the workflow's proxy tests, each run a process of its own.
 */

// A loaded machine makes these tests slower, never wrong: they have no time limit.
vi.setConfig({ testTimeout: 0, hookTimeout: 0 });

const BIN = resolve(import.meta.dirname, '../../bin/pce-export.mjs');
const execFileAsync = promisify(execFile);
const VARIABLES = [
  'PCE_API_KEY',
  'PCE_API_SECRET',
  'HTTP_PROXY',
  'http_proxy',
  'HTTPS_PROXY',
  'https_proxy',
  'NO_PROXY',
  'no_proxy',
];

describe('pce-export run through an HTTP CONNECT proxy', () => {
  let simulator: RunningSimulator;
  let tap: Tap;
  let proxy: CountingProxy;
  let out: string;
  let caFile: string;

  /** One `pce-export run` in a process of its own, as a user runs it. */
  async function run(flags: string[], env: Record<string, string> = {}) {
    const base: Record<string, string | undefined> = { ...process.env };
    for (const name of VARIABLES) delete base[name];
    const args = ['run', '--pce-url', tap.url, '--org', '1', '--path', '/labels', '--out', out];
    const { code, stdout } = await execFileAsync(
      process.execPath,
      [BIN, ...args, '--ca-file', caFile, ...flags],
      {
        env: {
          ...base,
          PCE_API_KEY: simulator.credentials.apiKey,
          PCE_API_SECRET: simulator.credentials.apiSecret,
          ...env,
        },
        maxBuffer: 16 * 1024 * 1024,
      },
    ).then(
      (done) => ({ code: 0, stdout: done.stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
    const last = stdout.trimEnd().split('\n').at(-1) ?? '{}';
    return { code, result: JSON.parse(last) as Record<string, unknown> };
  }

  beforeAll(async () => {
    simulator = await startSimulator({
      tls: true,
      jobDurationMs: 100,
      retryAfterSeconds: 1,
      dataset: { labels: 30 },
    });
    tap = await startTap(new URL(simulator.url));
    proxy = await startProxy();
    out = await mkdtemp(join(tmpdir(), 'pce-export-proxy-cli-'));
    caFile = join(out, 'ca.pem');
    await writeFile(caFile, simulator.caPem ?? '');
  });
  afterAll(async () => {
    await proxy?.close();
    await tap?.close();
    await simulator?.close();
    await rm(out, { recursive: true, force: true });
  });
  beforeEach(() => {
    tap.sources.length = 0;
    proxy.tunnels.length = 0;
    proxy.forwarded.length = 0;
  });

  it('sends every PCE request of --proxy through a tunnel, verified against --ca-file, none around it', async () => {
    const { code, result } = await run(['--proxy', proxy.url]);

    expect(code).toBe(0);
    expect(result.objectCount).toBe(30);
    expect(proxy.tunnels.length).toBeGreaterThan(0);
    expect(new Set(proxy.tunnels)).toEqual(new Set([new URL(tap.url).host]));
    expect(tap.sources).toEqual(proxy.tunnels.map(() => PROXY_SOURCE));
    // The embedded S3 and Secrets Manager stand-in were reached without the proxy.
    expect(proxy.forwarded).toEqual([]);
  });

  it('takes the proxy from HTTPS_PROXY when --proxy is not given', async () => {
    const { code } = await run([], { HTTPS_PROXY: proxy.url });

    expect(code).toBe(0);
    expect(proxy.tunnels.length).toBeGreaterThan(0);
    expect(tap.sources).toEqual(proxy.tunnels.map(() => PROXY_SOURCE));
  });

  it('goes straight to a PCE that NO_PROXY names', async () => {
    const { code } = await run(['--proxy', proxy.url], { NO_PROXY: '127.0.0.1' });

    expect(code).toBe(0);
    expect(proxy.tunnels).toEqual([]);
    expect(tap.sources.length).toBeGreaterThan(0);
    expect(new Set(tap.sources)).toEqual(new Set(['127.0.0.1']));
  });

  it('ends in PceUnavailable naming the proxy when nothing listens there', async () => {
    const closed = await startProxy();
    await closed.close();

    // No retry window: a proxy that is down is otherwise waited out for the deployed 600 s.
    const { code, result } = await run(['--proxy', closed.url, '--retry-window', '0']);

    expect(code).toBe(1);
    expect(result.error).toBe('PceUnavailable');
    expect(String(result.cause)).toContain(`the proxy ${closed.url} could not be reached`);
    expect(tap.sources).toEqual([]);
  });
});
