import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ExportOutput } from '../../lambdas/contracts/output';
import { type Harness, succeeded } from './harness';
import { callsTo, failed, startQuickHarness } from './reliability-support';

/*
 * Errors that are none of the PCE's or the export's own, through the locally run workflow: the
 * Lambda service, Secrets Manager and EventBridge (functions that crash or time out:
 * reliability-crashes.test.ts). Each ends
 * in a Fail named as PRODUCT.md 3.3 says (ExportInternalError, the original error in the cause)
 * with exactly one "Export Failed" event, or, for a failed success notification, in a success.
 */

/** Retries without the definition's backoff: the attempts are what these runs count. */
const FAST = { Submit: 0, Poll: 0, Fetch: 0, NotifySucceeded: 0, NotifyExportFailed: 0 } as const;

describe('errors of the AWS services the workflow runs on', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startQuickHarness();
  });
  afterEach(() => h.reset());
  afterAll(async () => {
    await h?.close();
  });

  const failureEvents = (executionArn: string) =>
    h.engine.events.sentBy(executionArn).filter((event) => event.detailType === 'Export Failed');

  it('fails with ExportInternalError naming Lambda.ServiceException once the service fails Poll past its retries, with one Export Failed event', async () => {
    h.engine.faults.lambda.inject({ state: 'Poll' }, { error: 'Lambda.ServiceException' }, { times: 4 });

    const outcome = await h.run({ path: '/labels' }, { retryIntervalOverrides: FAST });

    const { error, cause } = failed(outcome);
    expect(error).toBe('ExportInternalError');
    expect(cause).toMatch(
      /^Lambda\.ServiceException: Service error\. \(Service: AWSLambda; Status Code: 500/,
    );
    expect(h.engine.faults.lambda.delivered).toHaveLength(4);
    const events = failureEvents(outcome.executionArn);
    expect(events).toHaveLength(1);
    expect(events[0]?.detail).toMatchObject({
      error: 'ExportInternalError',
      cause,
      original: { error: 'Lambda.ServiceException', cause: expect.stringMatching(/^Service error\./) },
    });
  });

  it.each(['Lambda.ClientExecutionTimeoutException', 'Lambda.Unknown'] as const)(
    'retries a Poll the Lambda service fails with %s and exports',
    async (serviceError) => {
      h.engine.faults.lambda.inject({ state: 'Poll' }, { error: serviceError, when: 'after' }, { times: 2 });

      const output = succeeded<ExportOutput>(
        await h.run({ path: '/labels' }, { retryIntervalOverrides: FAST }),
      );

      expect(output.objectCount).toBe(60);
      expect(h.engine.faults.lambda.delivered).toHaveLength(2);
    },
  );

  it('fails with ExportInternalError naming ThrottlingException when Secrets Manager throttles every read, before the PCE is contacted', async () => {
    h.engine.faults.secrets.inject({}, { code: 'ThrottlingException' }, { times: Number.POSITIVE_INFINITY });

    const outcome = await h.run({ path: '/labels' });

    const { error, cause } = failed(outcome);
    expect(error).toBe('ExportInternalError');
    expect(cause).toContain('ThrottlingException');
    expect(cause).toContain('after 4 reads');
    expect(h.simulator.requests).toEqual([]);
    expect(failureEvents(outcome.executionArn)).toHaveLength(1);
  });

  it('stores the export and succeeds when the success notification cannot be sent, the failed attempts in the history', async () => {
    h.engine.faults.events.inject({ detailType: 'Export Succeeded' }, { kind: 'entry' }, { times: 10 });

    const outcome = await h.run({ path: '/labels' }, { retryIntervalOverrides: FAST });

    const output = succeeded<ExportOutput>(outcome);
    expect(await h.listKeys(output.key)).toEqual([output.key]);
    expect(h.engine.faults.events.delivered).toHaveLength(4);
    expect(outcome.history.byType.TaskFailed).toBe(4);
    expect(h.engine.events.sentBy(outcome.executionArn)).toEqual([]);
  });

  it('still ends in the named Fail when the failure notification cannot be sent', async () => {
    h.engine.faults.events.inject({ detailType: 'Export Failed' }, { kind: 'service' }, { times: 10 });

    const outcome = await h.run({ path: '/labels/../users' }, { retryIntervalOverrides: FAST });

    const { error, cause } = failed(outcome);
    expect(error).toBe('ExportConfigError');
    expect(cause).toContain('input.path');
    expect(h.engine.faults.events.delivered).toHaveLength(4);
    expect(failureEvents(outcome.executionArn)).toEqual([]);
    expect(callsTo(h.simulator.requests, 'submit')).toEqual([]);
  });
});
