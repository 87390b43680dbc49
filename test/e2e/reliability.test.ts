import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FETCH_MAX_FAILED_DOWNLOADS } from '../../lambdas/contracts/limits';
import type { ExportOutput } from '../../lambdas/contracts/output';
import { fault } from '../../simulator/index';
import { BUCKET, type Harness, PREFIX, sha256, succeeded } from './harness';
import {
  callsTo,
  eventLog,
  exitsOf,
  failed,
  retriesOf,
  startQuickHarness,
  submitAttempts,
  submitWaits,
  taskRetries,
} from './reliability-support';

/*
 * Every row of the error table (PRODUCT.md 3.3) that failures.test.ts does not reach yet, through
 * the locally run workflow and the simulator's faults. Retried classes are driven until they give
 * up; those runs replace the definition's backoff (full jitter on 2 s to 120 s intervals, minutes
 * in total) with a 10 ms pause through retryIntervalOverrides: the number of attempts, which is
 * what they assert, comes from the same Retry fields either way.
 */

/** Pause between retries in the runs that exhaust them (instead of up to 150 s of backoff). */
const FAST_RETRIES = { Submit: 10, Poll: 10, Fetch: 10 } as const;

describe('reliability of the locally run workflow: every named failure', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startQuickHarness();
  });
  afterEach(() => h.reset());
  afterAll(async () => {
    await h?.close();
  });

  function expectNoSecretIn(text: string) {
    expect(text).not.toContain(h.simulator.credentials.apiSecret);
  }

  describe('PceRequestError (other 4xx), never retried', () => {
    it('fails with PceRequestError naming the href when the collection does not exist', async () => {
      const log = eventLog();

      const { error, cause } = failed(await h.run({ path: '/no_such_collection' }, { onEvent: log.onEvent }));

      expect(error).toBe('PceRequestError');
      expect(cause).toContain('404');
      expect(cause).toContain('/orgs/1/no_such_collection');
      expect(callsTo(h.simulator.requests, 'submit')).toHaveLength(1);
      expect(retriesOf(log.events, 'Submit')).toBe(0);
    });

    it('fails with PceRequestError carrying the PCE token when the filter is rejected', async () => {
      const { error, cause } = failed(await h.run({ path: '/workloads', query: { no_such_filter: 'x' } }));

      expect(error).toBe('PceRequestError');
      expect(cause).toContain('406');
      expect(cause).toContain('invalid_uri');
      expect(callsTo(h.simulator.requests, 'submit')).toHaveLength(1);
    });

    it('fails with PceRequestError after one poll when the job vanishes', async () => {
      h.simulator.faults.add(fault.jobVanishes());
      const log = eventLog();

      const { error, cause } = failed(await h.run({ path: '/workloads' }, { onEvent: log.onEvent }));

      expect(error).toBe('PceRequestError');
      expect(cause).toMatch(/GET \/orgs\/1\/jobs\/[0-9a-f-]+ returned 404/);
      expect(callsTo(h.simulator.requests, 'job')).toHaveLength(1);
      expect(retriesOf(log.events, 'Poll')).toBe(0);
    });

    it('fails with PceRequestError and stores nothing when the datafile is gone', async () => {
      h.simulator.faults.add(fault.respond(404, { endpoint: 'datafile', times: Number.POSITIVE_INFINITY }));

      const { error, cause } = failed(await h.run({ exportName: 'gone', path: '/workloads' }));

      expect(error).toBe('PceRequestError');
      expect(cause).toMatch(/\/orgs\/1\/datafiles\//);
      expect(callsTo(h.simulator.requests, 'datafile')).toHaveLength(1);
      expect(await h.listKeys(`${PREFIX}gone/`)).toEqual([]);
    });
  });

  describe('PceAuthError (401, 403): fails fast, one request, no retry', () => {
    const credentials = () => ({
      url: h.simulator.url,
      apiKey: h.simulator.credentials.apiKey,
      apiSecret: h.simulator.credentials.apiSecret,
      caBundle: h.simulator.caPem,
    });

    it('fails with PceAuthError on 403 when the API key may not read the org', async () => {
      const log = eventLog();

      const { error, cause } = failed(
        await h.run({ path: '/workloads' }, { pce: { ...credentials(), orgId: 2 }, onEvent: log.onEvent }),
      );

      expect(error).toBe('PceAuthError');
      expect(cause).toContain('403');
      expect(cause).toContain('/orgs/2/workloads');
      expectNoSecretIn(cause);
      expect(h.simulator.requests).toHaveLength(1);
      expect(taskRetries(log.events)).toBe(0);
    });

    it.each([
      [401, 'job', 'Poll'],
      [403, 'job', 'Poll'],
      [401, 'datafile', 'Fetch'],
      [403, 'datafile', 'Fetch'],
    ] as const)(
      'fails with PceAuthError on a %i from the %s endpoint after one request',
      async (status, endpoint, state) => {
        h.simulator.faults.add(fault.respond(status, { endpoint, times: Number.POSITIVE_INFINITY }));
        const log = eventLog();

        const { error, cause } = failed(await h.run({ path: '/workloads' }, { onEvent: log.onEvent }));

        expect(error).toBe('PceAuthError');
        expect(cause).toContain(String(status));
        expectNoSecretIn(cause);
        expect(callsTo(h.simulator.requests, endpoint)).toHaveLength(1);
        expect(retriesOf(log.events, state)).toBe(0);
      },
    );
  });

  describe('PceRateLimited: waits out Retry-After, retries with backoff, then gives up', () => {
    it('waits the Retry-After between 429s before the job is accepted', async () => {
      h.simulator.faults.add(fault.respond(429, { endpoint: 'submit', times: 2, retryAfter: 1 }));

      const output = succeeded<ExportOutput>(await h.run({ path: '/workloads' }));

      const submits = callsTo(h.simulator.requests, 'submit');
      expect(submits.map((r) => r.status)).toEqual([429, 429, 202]);
      const [first, second, third] = submits.map((r) => r.time);
      expect((second ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(950);
      expect((third ?? 0) - (second ?? 0)).toBeGreaterThanOrEqual(950);
      expect(output.objectCount).toBe(500);
    });

    it('Submit gives up with PceRateLimited once its retry window is over when every answer is 429', async () => {
      h.simulator.faults.add(
        fault.respond(429, { endpoint: 'submit', times: Number.POSITIVE_INFINITY, retryAfter: 0 }),
      );
      const log = eventLog();

      const { error, cause } = failed(
        await h.run(
          { path: '/workloads' },
          {
            // Retry-After 0 honoured as is, so that the client's own waits take no time here; a
            // 3 s window leaves room for one or two submits (the Wait between them is real).
            env: { RETRY_AFTER_MIN_SECONDS: '0', SUBMIT_RETRY_WINDOW_SECONDS: '3' },
            onEvent: log.onEvent,
          },
        ),
      );

      expect(error).toBe('PceRateLimited');
      expect(cause).toContain('429');
      expect(cause).toContain('after 3 wait(s)');
      expect(cause).toContain('within the 3 s retry window');
      const submits = submitAttempts(log.events);
      expect(submits).toBeGreaterThanOrEqual(1);
      expect(submits).toBeLessThanOrEqual(2);
      // Each submit: its request and the client's 3 waits; no Step Functions retry on top.
      expect(callsTo(h.simulator.requests, 'submit')).toHaveLength(submits * 4);
      expect(retriesOf(log.events, 'Submit') + retriesOf(log.events, 'RetrySubmit')).toBe(0);
      expect(h.simulator.requests.every((r) => r.status === 429)).toBe(true);
    });
  });

  describe('PceUnavailable: 5xx and resets waited out, bounded', () => {
    it('Submit gives up with PceUnavailable once its retry window is over on a 503 on every submit', async () => {
      h.simulator.faults.add(fault.respond(503, { endpoint: 'submit', times: Infinity }));
      const log = eventLog();

      const { error, cause } = failed(
        await h.run(
          { exportName: 'unavailable', path: '/workloads' },
          { env: { SUBMIT_RETRY_WINDOW_SECONDS: '3' }, onEvent: log.onEvent },
        ),
      );

      expect(error).toBe('PceUnavailable');
      expect(cause).toContain('within the 3 s retry window');
      expectNoSecretIn(cause);
      const submits = submitAttempts(log.events);
      expect(submits).toBeGreaterThanOrEqual(1);
      expect(submits).toBeLessThanOrEqual(2);
      expect(callsTo(h.simulator.requests, 'submit')).toHaveLength(submits);
      // The wait Submit asked for before each later submit: the backoff, held to the window.
      for (const wait of submitWaits(log.events)) {
        expect(wait).toBeGreaterThanOrEqual(1);
        expect(wait).toBeLessThanOrEqual(3);
      }
      expect(await h.listKeys(`${PREFIX}unavailable/`)).toEqual([]);
    });

    it.each([
      ['a 500 on every poll', fault.respond(500, { endpoint: 'job', times: Infinity }), 500],
      [
        'a connection reset on every poll',
        fault.reset({ endpoint: 'job', times: Infinity }),
        // undici names a reset by when it came: mid-write, or with the socket already closed.
        expect.stringMatching(/^(ECONNRESET|UND_ERR_SOCKET)$/),
      ],
    ] as const)(
      'Poll gives up with PceUnavailable at the poll limit on %s, the job left as it was',
      async (_, injected, detail) => {
        h.simulator.faults.add(injected);
        const log = eventLog();

        const { error, cause } = failed(
          await h.run(
            { exportName: 'unavailable', path: '/workloads' },
            { env: { MAX_POLLS: '4' }, onEvent: log.onEvent, waitTimeOverrides: { WaitForJob: 0 } },
          ),
        );

        expect(error).toBe('PceUnavailable');
        expect(cause).toContain('polled 4 times, the most allowed');
        expectNoSecretIn(cause);
        expect(retriesOf(log.events, 'Poll')).toBe(0);
        expect(callsTo(h.simulator.requests, 'job')).toHaveLength(4);
        // Three polls handed the job back unchanged, with the backoff as the next wait.
        const troubled = exitsOf(log.events, 'Poll').flatMap((s) => (s.job ? [s.job] : []));
        expect(troubled.map((job) => job?.waitSeconds)).toEqual([5, 10, 20]);
        expect(troubled.map((job) => job?.status)).toEqual(['pending', 'pending', 'pending']);
        expect(troubled.map((job) => job?.unavailable?.status ?? job?.unavailable?.code)).toEqual([
          detail,
          detail,
          detail,
        ]);
        expect(await h.listKeys(`${PREFIX}unavailable/`)).toEqual([]);
        expect(callsTo(h.simulator.requests, 'delete')).toHaveLength(0);
      },
    );

    it('Fetch gives up with PceUnavailable after its most downloads on a 502 on the datafile', async () => {
      h.simulator.faults.add(fault.respond(502, { endpoint: 'datafile', times: Infinity }));
      const log = eventLog();

      const { error, cause } = failed(
        await h.run(
          { exportName: 'unavailable', path: '/workloads' },
          { onEvent: log.onEvent, waitTimeOverrides: { WaitToFetch: 0 } },
        ),
      );

      expect(error).toBe('PceUnavailable');
      expect(cause).toContain(`${FETCH_MAX_FAILED_DOWNLOADS} downloads failed`);
      expectNoSecretIn(cause);
      expect(retriesOf(log.events, 'Fetch')).toBe(0);
      expect(callsTo(h.simulator.requests, 'datafile')).toHaveLength(FETCH_MAX_FAILED_DOWNLOADS);
      expect(await h.listKeys(`${PREFIX}unavailable/`)).toEqual([]);
      expect(await h.engine.s3?.listOpenUploads(BUCKET)).toEqual([]);
    });
  });

  describe('ExportStorageError: S3 writes retried, bounded', () => {
    it('fails with ExportStorageError after 4 Fetch attempts when the bucket does not exist', async () => {
      const log = eventLog();

      const { error, cause } = failed(
        await h.run(
          { path: '/workloads' },
          { bucket: 'no-such-bucket', onEvent: log.onEvent, retryIntervalOverrides: FAST_RETRIES },
        ),
      );

      expect(error).toBe('ExportStorageError');
      expect(cause).toContain('s3://no-such-bucket/pce/workloads/');
      expect(cause).toMatch(/NoSuchBucket|does not exist/);
      expectNoSecretIn(cause);
      expect(retriesOf(log.events, 'Fetch')).toBe(3);
      expect(callsTo(h.simulator.requests, 'datafile')).toHaveLength(4);
      expect(callsTo(h.simulator.requests, 'delete')).toHaveLength(0);
    });

    it('recovers when S3 comes back between Fetch attempts and stores the complete object', async () => {
      const bucket = 'late-bucket';
      let created: Promise<unknown> | undefined;

      const outcome = await h.run(
        { path: '/workloads', format: 'raw', gzip: false },
        {
          bucket,
          onEvent: (event) => {
            if (event.type === 'StateFailed' && event.state?.name === 'Fetch' && !created) {
              created = h.s3.send(new CreateBucketCommand({ Bucket: bucket }));
            }
          },
          // Long enough for the bucket to be created before the retry.
          retryIntervalOverrides: { Fetch: 1000 },
        },
      );

      const output = succeeded<ExportOutput>(outcome);
      expect(output.bucket).toBe(bucket);
      expect(callsTo(h.simulator.requests, 'datafile')).toHaveLength(2);
      expect(output.objectCount).toBe(500);
      expect(await h.engine.s3?.listOpenUploads(bucket)).toEqual([]);
    });
  });

  describe('ExportConfigError: a malformed secret is named, never quoted, and nothing is sent', () => {
    const SECRET_VALUE = 'Tr0ub4dor-3-horse-battery';

    it.each([
      ['not JSON', `apiKey=api_0123&apiSecret=${SECRET_VALUE}`, /is not valid JSON/],
      ['cut-off JSON', `{"apiKey":"api_0123","apiSecret":"${SECRET_VALUE}`, /is not valid JSON/],
      ['a JSON array', `["api_0123","${SECRET_VALUE}"]`, /must hold a JSON object/],
      ['missing apiSecret', '{"apiKey":"api_0123"}', /field apiSecret is missing/],
      [
        'an apiSecret with a line break',
        JSON.stringify({ apiKey: 'api_0123', apiSecret: `${SECRET_VALUE}\n` }),
        /field apiSecret must not contain control characters/,
      ],
      [
        'a caBundle that is not PEM',
        JSON.stringify({ apiKey: 'api_0123', apiSecret: SECRET_VALUE, caBundle: 'not a certificate' }),
        /field caBundle must be PEM certificates/,
      ],
      [
        'the placeholder',
        '{"apiKey":"api_REPLACE_ME","apiSecret":"REPLACE_ME"}',
        /still holds the placeholder in apiKey and apiSecret/,
      ],
    ])('fails with ExportConfigError when the secret is %s', async (_, rawSecret, message) => {
      const log = eventLog();

      const { error, cause } = failed(
        await h.run({ path: '/workloads' }, { rawSecret, onEvent: log.onEvent }),
      );

      expect(error).toBe('ExportConfigError');
      expect(cause).toMatch(message);
      expect(cause).toMatch(/^Secret pce-export\/local\/[0-9a-f-]+ /);
      expect(cause).not.toContain(SECRET_VALUE);
      expect(JSON.stringify(log.events)).not.toContain(SECRET_VALUE);
      expect(taskRetries(log.events)).toBe(0);
      expect(h.simulator.requests).toEqual([]);
    });
  });

  describe('PceJobTimeout', () => {
    it('fails with PceJobTimeout when the job is still running after the poll limit', async () => {
      h.simulator.faults.add(fault.jobNeverFinishes());

      const { error, cause } = failed(await h.run({ path: '/workloads' }, { env: { MAX_POLLS: '2' } }));

      expect(error).toBe('PceJobTimeout');
      expect(cause).toMatch(/did not finish within 2 polls \(status running after \d+ seconds\)/);
      expect(callsTo(h.simulator.requests, 'job')).toHaveLength(2);
      expect(callsTo(h.simulator.requests, 'datafile')).toHaveLength(0);
    });
  });

  describe('PceProtocolError on a poll answer outside the protocol, not retried', () => {
    it.each([
      ['malformed JSON', fault.malformedJson({ times: Infinity }), /body that is not JSON/],
      ['an empty body', fault.emptyBody({ times: Infinity }), /empty body/],
      [
        'an HTML login page',
        fault.contentType('text/html', { times: Infinity, body: '<html>Sign in</html>' }),
        /Content-Type "text\/html" instead of JSON/,
      ],
      [
        'a JSON array',
        fault.contentType('application/json', { times: Infinity, body: '[]' }),
        /an array instead of a job object/,
      ],
    ])('fails with PceProtocolError on %s', async (_, injected, message) => {
      h.simulator.faults.add(injected);
      const log = eventLog();

      const { error, cause } = failed(await h.run({ path: '/workloads' }, { onEvent: log.onEvent }));

      expect(error).toBe('PceProtocolError');
      expect(cause).toMatch(message);
      expect(cause).toMatch(/GET \/orgs\/1\/jobs\/[0-9a-f-]+ returned 200 OK/);
      expect(callsTo(h.simulator.requests, 'job')).toHaveLength(1);
      expect(retriesOf(log.events, 'Poll')).toBe(0);
    });

    it('fails with PceProtocolError when the 202 has no Location', async () => {
      h.simulator.faults.add(fault.locationNone());

      const { error, cause } = failed(await h.run({ path: '/workloads' }));

      expect(error).toBe('PceProtocolError');
      expect(cause).toContain('Location header');
      expect(cause).toContain('is missing');
      expect(callsTo(h.simulator.requests, 'job')).toHaveLength(0);
    });

    it('fails with PceProtocolError when a done job names no datafile', async () => {
      h.simulator.faults.add(
        fault.contentType('application/json', {
          times: Infinity,
          body: JSON.stringify({ href: '/orgs/1/jobs/x', status: 'done', result: {} }),
        }),
      );

      const { error, cause } = failed(await h.run({ path: '/workloads' }));

      expect(error).toBe('PceProtocolError');
      expect(cause).toMatch(/result\.href of the done job .* is missing/i);
      expect(callsTo(h.simulator.requests, 'datafile')).toHaveLength(0);
    });
  });

  it('still exports completely after all these failures, with no upload left open', async () => {
    const output = succeeded<ExportOutput>(await h.run({ exportName: 'after', path: '/workloads' }));

    expect(sha256(await h.getObject(output.key))).toBe(output.sha256);
    expect(await h.engine.s3?.listOpenUploads(BUCKET)).toEqual([]);
  });
});
