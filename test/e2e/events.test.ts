import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ExportOutput } from '../../lambdas/contracts/output';
import { localExecutionArn, type RunOutcome } from '../../local/runner';
import { fault } from '../../simulator/index';
import { type Harness, startHarness, succeeded } from './harness';

function failed(outcome: RunOutcome): { error: string; cause: string } {
  if (outcome.status !== 'FAILED')
    throw new Error(`expected the execution to fail, it succeeded: ${JSON.stringify(outcome.output)}`);
  return { error: outcome.error, cause: outcome.cause };
}

describe('EventBridge events of the locally run workflow', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterEach(() => {
    h.simulator.faults.clear();
  });
  afterAll(async () => {
    await h?.close();
  });

  function sentBy(outcome: RunOutcome) {
    return h.engine.events.sentBy(localExecutionArn(outcome.executionName));
  }

  it('sends one "Export Succeeded" event whose detail is the execution output', async () => {
    const outcome = await h.run({ exportName: 'labels', path: '/labels' });

    const output = succeeded<ExportOutput>(outcome);
    expect(sentBy(outcome)).toEqual([
      expect.objectContaining({
        source: 'pce-export',
        detailType: 'Export Succeeded',
        detail: output,
        eventBusName: 'arn:aws:events:us-east-1:000000000000:event-bus/default',
      }),
    ]);
  });

  it('sends one "Export Failed" event with the error and cause the execution fails with, for a failed job', async () => {
    h.simulator.faults.add(fault.jobFails('Job failed: exceeded time limit'));
    const input = { exportName: 'labels', path: '/labels' };

    const outcome = await h.run(input);

    const { error, cause } = failed(outcome);
    expect(error).toBe('PceJobFailed');
    expect(sentBy(outcome)).toEqual([
      expect.objectContaining({
        source: 'pce-export',
        detailType: 'Export Failed',
        detail: {
          error: 'PceJobFailed',
          cause,
          original: { error: 'PceJobFailed', cause },
          execution: {
            name: outcome.executionName,
            id: localExecutionArn(outcome.executionName),
            startTime: expect.any(String),
          },
          input,
        },
      }),
    ]);
  });

  it('sends "Export Failed" for an error a handler raised, before the PCE was ever asked', async () => {
    const outcome = await h.run({ path: '/labels', format: 'csv' });

    const { error, cause } = failed(outcome);
    expect(error).toBe('ExportConfigError');
    expect(sentBy(outcome).map((event) => [event.detailType, event.detail])).toEqual([
      ['Export Failed', expect.objectContaining({ error, cause, input: { path: '/labels', format: 'csv' } })],
    ]);
  });
});
