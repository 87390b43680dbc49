import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ExportOutput } from '../../lambdas/contracts/output';
import { REPO_ROOT } from '../../lib/lambda-defaults';
import { fault } from '../../simulator/index';
import { createTestCa } from '../support/tls';
import { type Harness, succeeded } from './harness';
import {
  callsTo,
  type Elsewhere,
  eventLog,
  failed,
  guardNetwork,
  listenElsewhere,
  type NetworkGuard,
  startQuickHarness,
  taskRetries,
  waitsEntered,
} from './reliability-support';

/*
 * Hrefs the PCE hands out are untrusted: a Location or result.href that leaves the PCE's origin,
 * names another org, points at the instance metadata address or climbs out of the org is a
 * PceProtocolError, and no request is sent there. A guard on net.Socket#connect records every
 * connection this process attempts and refuses any that is not to loopback, so a wrong href
 * could not reach 169.254.169.254 even if the check failed; a listener on 127.0.0.2 counts what
 * would have arrived at another loopback address.
 */

describe('hostile hrefs and TLS trust, through the locally run workflow', () => {
  let h: Harness;
  let guard: NetworkGuard;
  let elsewhere: Elsewhere;
  let simulatorPort: number;

  beforeAll(async () => {
    guard = guardNetwork();
    h = await startQuickHarness();
    elsewhere = await listenElsewhere('127.0.0.2');
    simulatorPort = Number(new URL(h.simulator.url).port);
  });
  beforeEach(() => {
    guard.attempts.length = 0;
  });
  afterEach(() => h.reset());
  afterAll(async () => {
    await elsewhere?.close();
    await h?.close();
    guard?.restore();
  });

  /** Every connection went to the simulator, the embedded S3 or the secrets stand-in; none elsewhere. */
  function expectNothingSentElsewhere() {
    const known = [h.simulator.url, h.engine.s3?.endpoint ?? '', h.engine.secrets.endpoint].map(
      (url) => new URL(url).port,
    );
    expect(guard.blocked).toEqual([]);
    expect(guard.attempts.filter((a) => a.host !== '127.0.0.1' || !known.includes(String(a.port)))).toEqual(
      [],
    );
    expect(elsewhere.connections()).toBe(0);
  }

  const hostile = (kind: 'jobs' | 'datafiles') => {
    const other = () => `127.0.0.2:${elsewhere.port}`;
    return [
      ['off-origin over https', () => `https://${other()}/api/v2/orgs/{org}/${kind}/{id}`, /another origin/],
      [
        'off-origin over plain http',
        () => `http://${other()}/api/v2/orgs/{org}/${kind}/{id}`,
        /another origin/,
      ],
      ['off-origin, scheme-relative', () => `//${other()}/api/v2/orgs/{org}/${kind}/{id}`, /another origin/],
      [
        'on the PCE host but another port',
        () => `https://127.0.0.1:${elsewhere.port}/api/v2/orgs/{org}/${kind}/{id}`,
        /another origin/,
      ],
      ['behind user info', () => `{url}@${other()}/api/v2/orgs/{org}/${kind}/{id}`, /user info/],
      ['in another org', () => `/orgs/2/${kind}/{id}`, /another org than 1/],
      ['in another org, absolute', () => `{url}/api/v2/orgs/2/${kind}/{id}`, /another org than 1/],
      [
        'at the instance metadata address',
        () => `https://169.254.169.254/api/v2/orgs/{org}/${kind}/{id}`,
        /another origin/,
      ],
      [
        'at the instance metadata credentials path',
        () => 'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
        /another origin/,
      ],
      [
        'at an IPv6 link-local address',
        () => `http://[fe80::1]/api/v2/orgs/{org}/${kind}/{id}`,
        /another origin/,
      ],
      [
        'at the metadata address written as IPv4-mapped IPv6',
        () => `http://[::ffff:a9fe:a9fe]/api/v2/orgs/{org}/${kind}/{id}`,
        /another origin/,
      ],
      ['climbing out with ..', () => `/orgs/{org}/${kind}/../../../health`, /path traversal/],
      [
        'climbing out with encoded dots',
        () => `/api/v2/orgs/{org}/${kind}/%2e%2e/%2e%2e/users`,
        /path traversal or encoded/,
      ],
      [
        'climbing out of an absolute URL',
        () => `{url}/api/v2/orgs/{org}/${kind}/{id}/../../users`,
        /path traversal/,
      ],
      ['climbing out with backslashes', () => `/orgs/{org}/${kind}/..\\..\\users`, /path traversal/],
      [
        'naming the wrong kind of resource',
        () => `/orgs/{org}/${kind === 'jobs' ? 'datafiles' : 'jobs'}/{id}`,
        /is not a/,
      ],
    ] as const;
  };

  describe('a Location header on the 202', () => {
    it.each(hostile('jobs'))(
      'is rejected with PceProtocolError when %s, and never polled',
      async (_, template, reason) => {
        h.simulator.faults.add(fault.locationCustom(template()));

        const { error, cause } = failed(await h.run({ path: '/workloads' }));

        expect(error).toBe('PceProtocolError');
        expect(cause).toMatch(/the Location header of the 202 response/i);
        expect(cause).toMatch(reason);
        expect(callsTo(h.simulator.requests, 'submit')).toHaveLength(1);
        expect(callsTo(h.simulator.requests, 'job')).toEqual([]);
        expectNothingSentElsewhere();
      },
    );
  });

  describe('the result.href of a done job', () => {
    // Each of these waits for a poll; the cases that differ only in the Location's parsing are left out.
    const cases = hostile('datafiles').filter(([name]) =>
      /over https|another port|user info|another org, absolute|metadata address|IPv6 link-local|with \.\.$|encoded|wrong kind/.test(
        name,
      ),
    );

    it.each(cases)(
      'is rejected with PceProtocolError when %s, and never fetched',
      async (_, template, reason) => {
        h.simulator.faults.add(fault.resultHref(template()));
        const log = eventLog();

        const { error, cause } = failed(await h.run({ path: '/workloads' }, { onEvent: log.onEvent }));

        expect(error).toBe('PceProtocolError');
        expect(cause).toMatch(/result\.href of the done job/i);
        expect(cause).toMatch(reason);
        expect(callsTo(h.simulator.requests, 'datafile')).toEqual([]);
        expect(log.events.some((e) => e.type === 'StateEntered' && e.state?.name === 'Fetch')).toBe(false);
        expectNothingSentElsewhere();
      },
    );
  });

  describe('redirects are answers, never followed', () => {
    it.each([
      ['submit', 302, 'http://169.254.169.254/latest/meta-data/', /instead of 202 Accepted/],
      ['job', 302, 'http://169.254.169.254/latest/meta-data/', /instead of 200 OK/],
      ['datafile', 307, 'https://127.0.0.2:{port}/api/v2/orgs/1/datafiles/x', /instead of 200 OK/],
    ] as const)(
      'fails with PceProtocolError when the %s answer is a %i elsewhere',
      async (endpoint, status, location, reason) => {
        h.simulator.faults.add(
          fault.respond(status, {
            endpoint,
            times: Number.POSITIVE_INFINITY,
            headers: { location: location.replace('{port}', String(elsewhere.port)) },
          }),
        );

        const { error, cause } = failed(await h.run({ path: '/workloads' }));

        expect(error).toBe('PceProtocolError');
        expect(cause).toContain(String(status));
        expect(cause).toMatch(reason);
        expect(callsTo(h.simulator.requests, endpoint)).toHaveLength(1);
        expectNothingSentElsewhere();
      },
    );
  });

  it('refuses a plain-http PCE URL that is not on loopback before connecting anywhere', async () => {
    const { error, cause } = failed(
      await h.run(
        { path: '/workloads' },
        { pce: { url: 'http://169.254.169.254', orgId: 1, ...h.simulator.credentials } },
      ),
    );

    expect(error).toBe('ExportConfigError');
    expect(cause).toContain('PCE_URL must use https');
    expectNothingSentElsewhere();
  });

  describe('TLS trust', () => {
    const credentials = () => ({ url: h.simulator.url, orgId: 1, ...h.simulator.credentials });

    it('fails with ExportConfigError after a single connection attempt when the private CA is not trusted', async () => {
      const log = eventLog();

      const { error, cause } = failed(
        await h.run({ path: '/workloads' }, { pce: credentials(), onEvent: log.onEvent }),
      );

      expect(error).toBe('ExportConfigError');
      expect(cause).toMatch(
        /not trusted \((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)/,
      );
      expect(guard.attempts.filter((a) => a.port === simulatorPort)).toHaveLength(1);
      expect(taskRetries(log.events)).toBe(0);
      expect(h.simulator.requests).toEqual([]);
      expect(waitsEntered(log.events)).toEqual([]);
    });

    it('fails the same way when the secret carries the PEM of another CA', async () => {
      const otherCa = await createTestCa();

      const { error, cause } = failed(
        await h.run({ path: '/workloads' }, { pce: { ...credentials(), caBundle: otherCa.caPem } }),
      );

      expect(error).toBe('ExportConfigError');
      expect(cause).toContain('is not trusted');
      expect(guard.attempts.filter((a) => a.port === simulatorPort)).toHaveLength(1);
      expect(h.simulator.requests).toEqual([]);
    });

    it('succeeds over verified TLS when the secret carries the private CA', async () => {
      const output = succeeded<ExportOutput>(
        await h.run({ path: '/workloads' }, { pce: { ...credentials(), caBundle: h.simulator.caPem } }),
      );

      expect(output.objectCount).toBe(500);
      expect(h.simulator.requests.length).toBeGreaterThanOrEqual(4);
    });

    it('has no code in lambdas/, local/ or cli/ that switches certificate verification off', () => {
      const sources = ['lambdas', 'local', 'cli'].flatMap((dir) => sourceFiles(join(REPO_ROOT, dir)));
      const offenders = sources.filter((file) =>
        /rejectUnauthorized|NODE_TLS_REJECT_UNAUTHORIZED|checkServerIdentity/.test(
          readFileSync(file, 'utf8'),
        ),
      );

      expect(sources.length).toBeGreaterThan(20);
      expect(offenders).toEqual([]);
    });
  });
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|js|mjs|cjs)$/.test(name) ? [path] : [];
  });
}
