import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LocalRunOptions } from '../../local/engine';
import type { RunOutcome } from '../../local/runner';
import { fault } from '../../simulator/index';
import { BUCKET, type Harness } from './harness';
import { eventLog, failed, startQuickHarness } from './reliability-support';

/*
 * The API secret never leaves Secrets Manager and the PCE's Authorization header. A set of
 * exports that succeed and fail in every way runs with the handlers' logs on at DEBUG; everything
 * they wrote to stdout and stderr, every execution event (state inputs, outputs, errors), every
 * execution output and error, and every stored object, its metadata and the manifests are then
 * searched for the secret, for the Basic credential built from it and for the secrets of the
 * failing runs.
 */

const WRONG_SECRET = 'wr0ng-Secret-for-the-401-run-0c1f';
const SECRET_IN_BROKEN_JSON = 'secret-in-a-broken-secret-77aa';

function basic(apiKey: string, apiSecret: string): string {
  return Buffer.from(`${apiKey}:${apiSecret}`, 'utf8').toString('base64');
}

function text(chunk: unknown): string {
  if (typeof chunk === 'string') return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk).toString('utf8');
  return String(chunk);
}

describe('credentials never leave the secret, through the locally run workflow with handler logs on', () => {
  let h: Harness;
  let previousLogLevel: string | undefined;
  /** Everything the process printed while the exports ran. */
  const printed: string[] = [];
  /** Execution events, outputs and errors of every run. */
  const recorded: string[] = [];
  const outcomes: { name: string; outcome: RunOutcome }[] = [];

  async function runAndRecord(name: string, input: unknown, overrides: Partial<LocalRunOptions> = {}) {
    const log = eventLog();
    const outcome = await h.run(input, { ...overrides, onEvent: log.onEvent });
    outcomes.push({ name, outcome });
    recorded.push(JSON.stringify(log.events), JSON.stringify(outcome));
    h.simulator.faults.clear();
    return outcome;
  }

  beforeAll(async () => {
    // The handler modules create their loggers when the engine loads them.
    previousLogLevel = process.env.POWERTOOLS_LOG_LEVEL;
    process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
    h = await startQuickHarness();
    const { credentials, caPem, url } = h.simulator;
    const pce = { url, orgId: 1, ...credentials, caBundle: caPem };
    const fast = { Submit: 10, Poll: 10, Fetch: 10 };

    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
        printed.push(text(chunk));
        return true;
      });
    }
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        printed.push(
          args
            .map((arg) => (arg instanceof Error ? `${arg.stack} ${String(arg.cause)}` : text(arg)))
            .join(' '),
        );
      });
    }
    try {
      await runAndRecord('raw', {
        exportName: 'raw',
        path: '/workloads',
        query: { managed: 'true' },
        format: 'raw',
        gzip: false,
      });
      await runAndRecord('ndjson', { exportName: 'ndjson', path: '/labels' });
      await runAndRecord(
        'wrong secret',
        { path: '/workloads' },
        { pce: { ...pce, apiSecret: WRONG_SECRET } },
      );
      await runAndRecord('403', { path: '/workloads' }, { pce: { ...pce, orgId: 2 } });
      await runAndRecord(
        'secret not JSON',
        { path: '/workloads' },
        { rawSecret: `{"apiKey":"${credentials.apiKey}","apiSecret":"${SECRET_IN_BROKEN_JSON}"` },
      );
      await runAndRecord('untrusted TLS', { path: '/workloads' }, { pce: { ...pce, caBundle: undefined } });
      h.simulator.faults.add(fault.respond(429, { endpoint: 'submit', times: Infinity, retryAfter: 0 }));
      await runAndRecord(
        'rate limited',
        { path: '/workloads' },
        {
          env: { RETRY_AFTER_MIN_SECONDS: '0', SUBMIT_RETRY_WINDOW_SECONDS: '0' },
          retryIntervalOverrides: fast,
        },
      );
      h.simulator.faults.add(fault.reset({ endpoint: 'job', times: Infinity }));
      await runAndRecord(
        'resets',
        { path: '/workloads' },
        { env: { MAX_POLLS: '3' }, retryIntervalOverrides: fast, waitTimeOverrides: { WaitForJob: 0 } },
      );
      h.simulator.faults.add(fault.cutBody(10_000, { endpoint: 'datafile', times: Infinity }));
      await runAndRecord(
        'cut off',
        { exportName: 'cut', path: '/workloads' },
        { retryIntervalOverrides: fast, waitTimeOverrides: { WaitToFetch: 0 } },
      );
      h.simulator.faults.add(fault.locationCustom('https://127.0.0.2:1/api/v2/orgs/1/jobs/{id}'));
      await runAndRecord('off-origin', { path: '/workloads' });
      h.simulator.faults.add(fault.jobFails('Job failed: the API user lacks permission'));
      await runAndRecord('job failed', { path: '/workloads' });
      await runAndRecord(
        'no bucket',
        { path: '/labels' },
        { bucket: 'no-such-bucket', retryIntervalOverrides: fast },
      );
      await runAndRecord('bad input', { path: '/workloads/../users' });
    } finally {
      vi.restoreAllMocks();
    }
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    if (previousLogLevel === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
    else process.env.POWERTOOLS_LOG_LEVEL = previousLogLevel;
  });

  /** Values that must never appear anywhere. */
  function forbidden(): string[] {
    const { apiKey, apiSecret } = h.simulator.credentials;
    return [
      apiSecret,
      basic(apiKey, apiSecret),
      `${apiKey}:${apiSecret}`,
      WRONG_SECRET,
      basic(apiKey, WRONG_SECRET),
      SECRET_IN_BROKEN_JSON,
    ];
  }

  function expectNoneIn(haystack: string) {
    for (const needle of forbidden()) expect(haystack).not.toContain(needle);
  }

  it('ran the exports it meant to: two succeeded, the others failed with their named errors', () => {
    expect(
      outcomes.map(({ name, outcome }) => [name, outcome.status === 'FAILED' ? outcome.error : 'SUCCEEDED']),
    ).toEqual([
      ['raw', 'SUCCEEDED'],
      ['ndjson', 'SUCCEEDED'],
      ['wrong secret', 'PceAuthError'],
      ['403', 'PceAuthError'],
      ['secret not JSON', 'ExportConfigError'],
      ['untrusted TLS', 'ExportConfigError'],
      ['rate limited', 'PceRateLimited'],
      ['resets', 'PceUnavailable'],
      ['cut off', 'PceUnavailable'],
      ['off-origin', 'PceProtocolError'],
      ['job failed', 'PceJobFailed'],
      ['no bucket', 'ExportStorageError'],
      ['bad input', 'ExportConfigError'],
    ]);
  });

  it('sent the credential to the PCE, in the Authorization header only', () => {
    const { apiKey, apiSecret } = h.simulator.credentials;
    const authorizations = new Set(h.simulator.requests.map((r) => r.headers.authorization));

    expect(authorizations).toEqual(
      new Set([`Basic ${basic(apiKey, apiSecret)}`, `Basic ${basic(apiKey, WRONG_SECRET)}`]),
    );
    for (const request of h.simulator.requests) {
      expectNoneIn(JSON.stringify({ ...request, headers: { ...request.headers, authorization: undefined } }));
    }
  });

  it('logged every invocation at DEBUG and printed no credential', () => {
    const output = printed.join('\n');

    expect(output).toContain('"level":"INFO"');
    expect(output).toContain('Submitted PCE async job');
    expect(output).toContain('"level":"ERROR"');
    expect(output).toContain('PceAuthError');
    expectNoneIn(output);
  });

  it('put no credential in any execution event, output, error or cause', () => {
    const failures = outcomes.map(({ outcome }) => outcome).filter((o) => o.status === 'FAILED');

    expect(failures.length).toBe(11);
    for (const failure of failures) expectNoneIn(`${failed(failure).error} ${failed(failure).cause}`);
    expectNoneIn(recorded.join('\n'));
  });

  it('stored no credential in any object, object metadata, manifest or latest pointer', async () => {
    const listed = await h.s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    const keys = (listed.Contents ?? []).map((o) => o.Key ?? '');

    expect(keys.filter((key) => key.endsWith('.manifest.json'))).toHaveLength(2);
    expect(keys.filter((key) => key.endsWith('latest.json'))).toHaveLength(2);
    for (const key of keys) {
      const head = await h.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      const object = await h.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      const body = Buffer.from((await object.Body?.transformToByteArray()) ?? new Uint8Array());
      expectNoneIn(JSON.stringify(head.Metadata ?? {}));
      expectNoneIn((key.endsWith('.gz') ? gunzipSync(body) : body).toString('utf8'));
    }
  });
});
