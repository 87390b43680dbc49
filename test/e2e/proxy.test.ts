import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ExportOutput } from '../../lambdas/contracts/output';
import { createTestCa } from '../support/tls';
import { failed, type Harness, startHarness, succeeded } from './harness';
import { type CountingProxy, PROXY_SOURCE, startProxy, startTap, type Tap } from './proxy-support';

/*
 * PCE traffic through a real HTTP CONNECT proxy (the `proxy` package of the proxy-agents
 * project) on loopback. The proxy opens its connections to the PCE from 127.0.0.2, and a TCP tap
 * in front of the simulator records every connection that reaches the PCE and where it came
 * from: every PCE connection must come through a tunnel, none around it. TLS stays between the
 * functions and the PCE, so the PCE's private CA is what the tunnel's TLS is verified with.
 */

/** Submit gives up on the first failure instead of waiting it out for the deployed 600 s. */
const NO_RETRY_WINDOW = { SUBMIT_RETRY_WINDOW_SECONDS: '0' };

describe('PCE traffic through an HTTP CONNECT proxy', () => {
  let h: Harness;
  let tap: Tap;
  let proxy: CountingProxy;
  let pce: { url: string; orgId: number; apiKey: string; apiSecret: string; caBundle?: string };

  beforeAll(async () => {
    h = await startHarness({ dataset: { workloads: 50, labels: 20 } });
    tap = await startTap(new URL(h.simulator.url));
    proxy = await startProxy();
    pce = {
      url: tap.url,
      orgId: 1,
      apiKey: h.simulator.credentials.apiKey,
      apiSecret: h.simulator.credentials.apiSecret,
      ...(h.simulator.caPem ? { caBundle: h.simulator.caPem } : {}),
    };
  });
  afterAll(async () => {
    await proxy?.close();
    await tap?.close();
    await h?.close();
  });
  beforeEach(() => {
    h.reset();
    tap.sources.length = 0;
    proxy.tunnels.length = 0;
    proxy.forwarded.length = 0;
    proxy.server.authenticate = undefined;
  });

  it('sends every PCE request through a tunnel of the proxy and none around it, and the AWS calls not at all', async () => {
    const tapHost = new URL(tap.url).host;
    // A proxy in the process environment is not the configured one: it must not be used.
    const saved = process.env.HTTPS_PROXY;
    process.env.HTTPS_PROXY = 'http://127.0.0.1:9';
    let output: ExportOutput;
    try {
      output = succeeded<ExportOutput>(
        await h.run(
          { exportName: 'labels', path: '/labels', gzip: false },
          { pce, proxy: { url: proxy.url } },
        ),
      );
    } finally {
      if (saved === undefined) delete process.env.HTTPS_PROXY;
      else process.env.HTTPS_PROXY = saved;
    }

    expect(output.objectCount).toBe(20);
    expect(h.simulator.requests.length).toBeGreaterThanOrEqual(4);
    expect(proxy.tunnels.length).toBeGreaterThan(0);
    expect(new Set(proxy.tunnels)).toEqual(new Set([tapHost]));
    // Each connection the PCE got is one the proxy opened for a tunnel.
    expect(tap.sources).toEqual(proxy.tunnels.map(() => PROXY_SOURCE));
    // S3 and Secrets Manager were called (the object is there), never through the proxy.
    expect((await h.getObject(output.key)).length).toBe(output.bytes);
    expect(proxy.forwarded).toEqual([]);
  });

  it('goes straight to a PCE that noProxy names', async () => {
    succeeded(
      await h.run(
        { exportName: 'labels', path: '/labels' },
        { pce, proxy: { url: proxy.url, noProxy: ['127.0.0.1'] } },
      ),
    );

    expect(proxy.tunnels).toEqual([]);
    expect(tap.sources.length).toBeGreaterThan(0);
    expect(new Set(tap.sources)).toEqual(new Set(['127.0.0.1']));
  });

  it("verifies the PCE's certificate end to end through the tunnel: another CA is not trusted", async () => {
    const other = await createTestCa();

    const failure = failed(
      await h.run(
        { exportName: 'labels', path: '/labels' },
        { pce: { ...pce, caBundle: other.caPem }, proxy: { url: proxy.url } },
      ),
    );

    expect(proxy.tunnels.length).toBeGreaterThan(0);
    expect(failure.error).toBe('ExportConfigError');
    expect(failure.cause).toContain(`the TLS certificate of ${tap.url} is not trusted`);
    expect(h.simulator.requests).toEqual([]);
  });

  it('ends in PceUnavailable naming the proxy when the proxy refuses the tunnel', async () => {
    proxy.server.authenticate = () => false;

    const failure = failed(
      await h.run(
        { exportName: 'labels', path: '/labels' },
        { pce, proxy: { url: proxy.url }, env: NO_RETRY_WINDOW },
      ),
    );

    expect(failure.error).toBe('PceUnavailable');
    expect(failure.cause).toContain(
      `the proxy ${proxy.url} refused the tunnel to ${tap.url} (CONNECT answered 407 Proxy Authentication Required)`,
    );
    expect(tap.sources).toEqual([]);
  });

  it('ends in PceUnavailable naming the proxy when nothing listens at the proxy', async () => {
    const closed = await startProxy();
    await closed.close();

    const failure = failed(
      await h.run(
        { exportName: 'labels', path: '/labels' },
        { pce, proxy: { url: closed.url }, env: NO_RETRY_WINDOW },
      ),
    );

    expect(failure.error).toBe('PceUnavailable');
    expect(failure.cause).toContain(`the proxy ${closed.url} could not be reached (ECONNREFUSED)`);
    expect(tap.sources).toEqual([]);
  });
});
