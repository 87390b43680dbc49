import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FETCH_MAX_FAILED_DOWNLOADS } from '../../lambdas/contracts/limits';
import type { ExportOutput } from '../../lambdas/contracts/output';
import { fault } from '../../simulator/index';
import { BUCKET, failed, type Harness, PREFIX, sha256, startHarness, succeeded } from './harness';
import { eventLog, exitsOf, submitAttempts, taskRetries, waitsEntered } from './reliability-support';

describe('named failures of the locally run workflow', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterEach(() => h.reset());
  afterAll(async () => {
    await h?.close();
  });

  function expectNoSecretIn(text: string) {
    expect(text).not.toContain(h.simulator.credentials.apiSecret);
  }

  it('fails with PceAuthError on 401 without retrying', async () => {
    const outcome = await h.run(
      { path: '/workloads' },
      {
        pce: {
          url: h.simulator.url,
          orgId: 1,
          apiKey: h.simulator.credentials.apiKey,
          apiSecret: 'wrong-secret',
          caBundle: h.simulator.caPem,
        },
      },
    );

    const { error, cause } = failed(outcome);
    expect(error).toBe('PceAuthError');
    expect(cause).toContain('401');
    expect(cause).not.toContain('wrong-secret');
    expect(h.simulator.requests.filter((r) => r.endpoint === 'submit')).toHaveLength(1);
  });

  it('fails with PceJobFailed carrying the PCE message when the job fails', async () => {
    h.simulator.faults.add(fault.jobFails('Job failed: exceeded time limit'));

    const { error, cause } = failed(await h.run({ path: '/workloads' }));

    expect(error).toBe('PceJobFailed');
    expect(cause).toContain('exceeded time limit');
    expect(cause).toMatch(/\/orgs\/1\/jobs\//);
  });

  it('fails with PceJobFailed when the job is cancelled', async () => {
    h.simulator.faults.add(fault.jobStatus('cancelled'));

    const { error, cause } = failed(await h.run({ path: '/workloads' }));

    expect(error).toBe('PceJobFailed');
    expect(cause).toMatch(/cancel/i);
  });

  it('fails with PceJobTimeout at the deadline when the job never finishes', async () => {
    h.simulator.faults.add(fault.jobNeverFinishes());
    const log = eventLog();

    const { error, cause } = failed(
      await h.run({ path: '/workloads', maxWaitSeconds: 3 }, { onEvent: log.onEvent }),
    );

    expect(error).toBe('PceJobTimeout');
    expect(cause).toContain('3 seconds');
    // Every wait the job state asked for stays within the 3 s deadline, so the polls end there.
    const jobs = exitsOf(log.events, 'Poll').map((state) => state.job);
    expect(jobs.length).toBeGreaterThan(0);
    expect(jobs.at(-1)?.timedOut).toBe(true);
    const waits = [...exitsOf(log.events, 'Submit'), ...jobs.slice(0, -1).map((job) => ({ job }))].map(
      (state) => state.job?.waitSeconds,
    );
    expect(waits.every((seconds) => seconds !== undefined && seconds >= 1 && seconds <= 3)).toBe(true);
    expect(h.simulator.requests.filter((r) => r.endpoint === 'job')).toHaveLength(jobs.length);
  });

  it('fails with PceProtocolError on an unknown job status', async () => {
    h.simulator.faults.add(fault.jobStatus('exploded'));

    const { error, cause } = failed(await h.run({ path: '/workloads' }));

    expect(error).toBe('PceProtocolError');
    expect(cause).toContain('exploded');
  });

  describe('with a listener on another loopback address', () => {
    let elsewhere: Server;
    let hits = 0;
    let port = 0;

    beforeAll(async () => {
      elsewhere = createServer((_req, res) => {
        hits++;
        res.end();
      });
      await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.2', resolve));
      port = (elsewhere.address() as AddressInfo).port;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => elsewhere.close(() => resolve()));
    });

    it('fails with PceProtocolError on an off-origin Location and sends nothing there', async () => {
      h.simulator.faults.add(fault.locationCustom(`https://127.0.0.2:${port}/api/v2/orgs/1/jobs/{id}`));

      const { error, cause } = failed(await h.run({ path: '/workloads' }));

      expect(error).toBe('PceProtocolError');
      expect(cause).toContain('127.0.0.2');
      expect(hits).toBe(0);
    });
  });

  it('recovers from a 429 that carries a Retry-After', async () => {
    h.simulator.faults.add(fault.respond(429, { endpoint: 'submit', retryAfter: 1 }));

    const output = succeeded<ExportOutput>(await h.run({ path: '/workloads' }));

    expect(output.objectCount).toBe(500);
    expect(h.simulator.requests.filter((r) => r.endpoint === 'submit').map((r) => r.status)).toEqual([
      429, 202,
    ]);
  });

  it('recovers from 503s on polls by polling again after a wait, the job left as it was', async () => {
    h.simulator.faults.add(fault.respond(503, { endpoint: 'job', times: 2 }));
    const log = eventLog();

    const output = succeeded<ExportOutput>(
      await h.run({ path: '/workloads' }, { onEvent: log.onEvent, waitTimeOverrides: { WaitForJob: 0 } }),
    );

    expect(output.objectCount).toBe(500);
    expect(output.retries).toEqual({ submit: 0, poll: 2, fetch: 0 });
    expect(h.simulator.requests.filter((r) => r.endpoint === 'job' && r.status === 503)).toHaveLength(2);
    expect(
      exitsOf(log.events, 'Poll')
        .slice(0, 2)
        .map((state) => [state.job?.unavailable?.status, state.job?.waitSeconds]),
    ).toEqual([
      [503, 5],
      [503, 10],
    ]);
  });

  it('retries a datafile cut off mid-stream and stores the complete object', async () => {
    h.simulator.faults.add(fault.cutBody(20_000, { endpoint: 'datafile' }));

    const output = succeeded<ExportOutput>(
      await h.run(
        { path: '/workloads', format: 'raw', gzip: false },
        { waitTimeOverrides: { WaitToFetch: 0 } },
      ),
    );

    const stored = await h.getObject(output.key);
    expect(JSON.parse(stored.toString('utf8'))).toHaveLength(500);
    expect(sha256(stored)).toBe(output.sha256);
    expect(output.retries).toEqual({ submit: 0, poll: 0, fetch: 1 });
    expect(h.simulator.requests.filter((r) => r.endpoint === 'datafile')).toHaveLength(2);
  });

  it('fails with PceUnavailable when the datafile is always cut off, leaving no object and no open upload', async () => {
    h.simulator.faults.add(fault.cutBody(20_000, { endpoint: 'datafile', times: Number.POSITIVE_INFINITY }));
    const before = await h.listKeys(`${PREFIX}cut/`);

    const { error, cause } = failed(
      await h.run(
        { exportName: 'cut', path: '/workloads' },
        { env: { UPLOAD_PART_SIZE_MIB: '5' }, waitTimeOverrides: { WaitToFetch: 0 } },
      ),
    );

    expect(error).toBe('PceUnavailable');
    expect(cause).toContain(`${FETCH_MAX_FAILED_DOWNLOADS} downloads failed`);
    expectNoSecretIn(cause);
    expect(before).toEqual([]);
    expect(await h.listKeys(`${PREFIX}cut/`)).toEqual([]);
    expect(await h.engine.s3?.listOpenUploads(BUCKET)).toEqual([]);
    expect(h.simulator.requests.filter((r) => r.endpoint === 'datafile')).toHaveLength(
      FETCH_MAX_FAILED_DOWNLOADS,
    );
  }, 120_000);

  it('fails with ExportConfigError on bad input and sends nothing to the PCE', async () => {
    const { error, cause } = failed(await h.run({ path: '/workloads/../users', extra: true }));

    expect(error).toBe('ExportConfigError');
    expect(cause).toContain('input.path');
    expect(cause).toContain('extra');
    expect(h.simulator.requests).toHaveLength(0);
  });

  it('fails at the first submit with ExportConfigError when the PCE certificate is not trusted', async () => {
    const log = eventLog();

    const { error, cause } = failed(
      await h.run(
        { path: '/workloads' },
        { pce: { url: h.simulator.url, orgId: 1, ...h.simulator.credentials }, onEvent: log.onEvent },
      ),
    );

    expect(error).toBe('ExportConfigError');
    expect(cause).toContain('caBundle');
    // Neither retried by Step Functions nor waited out: one submit, no Wait state entered.
    expect(submitAttempts(log.events)).toBe(1);
    expect(taskRetries(log.events)).toBe(0);
    expect(waitsEntered(log.events)).toEqual([]);
    expect(h.simulator.requests).toHaveLength(0);
  });
});
