import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalEngine, type LocalRunOptions, startLocalEngine } from '../../local/engine';
import type { LambdaHandler } from '../../local/lambda';
import { type RunningSimulator, startSimulator } from '../../simulator/index';
import { BUCKET, PREFIX } from './harness';
import { failed } from './reliability-support';

/*
 * Functions that crash or run past their timeout, through the locally run workflow with the Poll
 * handler replaced (an engine of its own: the handlers' SDK clients belong to one engine per
 * process). Each ends in ExportInternalError with the original error in the cause.
 */

describe('functions that crash or run out of time', () => {
  let simulator: RunningSimulator;
  let engine: LocalEngine;
  let target: Omit<LocalRunOptions, 'input'>;
  let pollBehaviour: LambdaHandler = async () => ({});

  beforeAll(async () => {
    simulator = await startSimulator({
      tls: true,
      jobDurationMs: 100,
      retryAfterSeconds: 1,
      dataset: { labels: 5 },
    });
    engine = await startLocalEngine({
      s3: { embedded: true, bucket: BUCKET },
      handlers: { poll: (event, context) => pollBehaviour(event, context) },
    });
    target = {
      pce: {
        url: simulator.url,
        orgId: 1,
        apiKey: simulator.credentials.apiKey,
        apiSecret: simulator.credentials.apiSecret,
        caBundle: simulator.caPem,
      },
      bucket: BUCKET,
      prefix: PREFIX,
    };
  });
  afterAll(async () => {
    await engine?.close();
    await simulator?.close();
  });

  const pollFunction = () => {
    const fn = Object.values(engine.local.functions).find((candidate) => candidate.handler === 'poll');
    if (!fn) throw new Error('no poll function in the stack');
    return fn;
  };

  it('fails with ExportInternalError carrying the TypeError of a function that crashes', async () => {
    pollBehaviour = async () => {
      throw new TypeError("Cannot read properties of undefined (reading 'job')");
    };

    const outcome = await engine.run({ ...target, input: { path: '/labels' } });

    const { error, cause } = failed(outcome);
    expect(error).toBe('ExportInternalError');
    expect(cause).toBe("TypeError: Cannot read properties of undefined (reading 'job')");
    const [event] = engine.events.sentBy(outcome.executionArn);
    expect(event).toMatchObject({ detailType: 'Export Failed', detail: { error, cause } });
  });

  it('fails with ExportInternalError naming Sandbox.Timedout when a function runs past its timeout', async () => {
    const fn = pollFunction();
    const configured = fn.timeoutSeconds;
    (fn as { timeoutSeconds: number }).timeoutSeconds = 1;
    pollBehaviour = () => new Promise(() => {});
    try {
      const outcome = await engine.run({ ...target, input: { path: '/labels' } });

      const { error, cause } = failed(outcome);
      expect(error).toBe('ExportInternalError');
      expect(cause).toMatch(/^Sandbox\.Timedout: RequestId: \S+ Error: Task timed out after 1\.00 seconds$/);
      expect(outcome.history.byType.LambdaFunctionFailed).toBe(1);
    } finally {
      (fn as { timeoutSeconds: number }).timeoutSeconds = configured;
    }
  });
});
