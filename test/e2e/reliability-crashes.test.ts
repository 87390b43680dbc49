import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LambdaHandler } from '../../local/lambda';
import { type Harness, startHarness } from './harness';
import { failed } from './reliability-support';

/*
 * Functions that crash or run past their timeout, through the locally run workflow with the Poll
 * handler replaced (an engine of its own: the handlers' SDK clients belong to one engine per
 * process). Each ends in ExportInternalError with the original error in the cause.
 */

describe('functions that crash or run out of time', () => {
  let h: Harness;
  let pollBehaviour: LambdaHandler = async () => ({});

  beforeAll(async () => {
    h = await startHarness(
      { jobDurationMs: 100, dataset: { labels: 5 } },
      { handlers: { poll: (event, context) => pollBehaviour(event, context) } },
    );
  });
  afterAll(async () => {
    await h?.close();
  });

  const pollFunction = () => {
    const fn = Object.values(h.engine.local.functions).find((candidate) => candidate.handler === 'poll');
    if (!fn) throw new Error('no poll function in the stack');
    return fn;
  };

  it('fails with ExportInternalError carrying the TypeError of a function that crashes', async () => {
    pollBehaviour = async () => {
      throw new TypeError("Cannot read properties of undefined (reading 'job')");
    };

    const outcome = await h.run({ path: '/labels' });

    const { error, cause } = failed(outcome);
    expect(error).toBe('ExportInternalError');
    expect(cause).toBe("TypeError: Cannot read properties of undefined (reading 'job')");
    const [event] = h.engine.events.sentBy(outcome.executionArn);
    expect(event).toMatchObject({ detailType: 'Export Failed', detail: { error, cause } });
  });

  it('fails with ExportInternalError naming Sandbox.Timedout when a function runs past its timeout', async () => {
    const fn = pollFunction();
    const configured = fn.timeoutSeconds;
    (fn as { timeoutSeconds: number }).timeoutSeconds = 1;
    pollBehaviour = () => new Promise(() => {});
    try {
      const outcome = await h.run({ path: '/labels' });

      const { error, cause } = failed(outcome);
      expect(error).toBe('ExportInternalError');
      expect(cause).toMatch(/^Sandbox\.Timedout: RequestId: \S+ Error: Task timed out after 1\.00 seconds$/);
      expect(outcome.history.byType.LambdaFunctionFailed).toBe(1);
    } finally {
      (fn as { timeoutSeconds: number }).timeoutSeconds = configured;
    }
  });
});
