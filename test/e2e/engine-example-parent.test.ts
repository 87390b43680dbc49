import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config';
import { DEFAULT_CONFIG_PATH } from '../../local/definition';
import { fault } from '../../simulator/index';
import { BUCKET, type Harness, startHarness } from './harness';

describe('the example parent state machine, run locally', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness(
      { dataset: { labels: 20 } },
      { config: { ...loadConfig(DEFAULT_CONFIG_PATH), exampleParent: true } },
    );
  });
  afterEach(() => h.simulator.faults.clear());
  afterAll(async () => {
    await h?.close();
  });

  it('starts the export as a child execution with startExecution.sync:2 and reads its output', async () => {
    const outcome = await h.engine.runStateMachine('ExampleParent', {
      ...h.target,
      input: { exportName: 'labels' },
    });

    expect(outcome.status).toBe('SUCCEEDED');
    const [child] = outcome.children;
    expect(child).toMatchObject({
      status: 'SUCCEEDED',
      stateMachineArn: expect.stringMatching(/:PceExportWorkflow$/),
    });
    const output = outcome.status === 'SUCCEEDED' ? (outcome.output as Record<string, string>) : {};
    expect(output).toEqual({
      uri: expect.stringMatching(/^s3:\/\/exports\/pce\/labels\//),
      bucket: BUCKET,
      manifestKey: expect.stringMatching(/^pce\/labels\//),
      exportExecutionArn: child?.executionArn,
    });
    const exported = h.engine.events.sentBy(String(child?.executionArn));
    expect(exported.map((event) => event.detailType)).toEqual(['Export Succeeded']);
  });

  it('keeps the export in the child history: the parent writes twelve events', async () => {
    const outcome = await h.engine.runStateMachine('ExampleParent', {
      ...h.target,
      input: { exportName: 'labels' },
    });

    expect(outcome.history.events).toBe(12);
    expect(outcome.history.byType).toMatchObject({ TaskSubmitted: 1, TaskSucceeded: 1 });
    expect(outcome.history.byType.LambdaFunctionScheduled).toBeUndefined();
    expect(outcome.children[0]?.history.byType.LambdaFunctionScheduled).toBeGreaterThanOrEqual(3);
  });

  it("fails with States.TaskFailed and the export's error in the cause when the export fails", async () => {
    h.simulator.faults.add(fault.jobFails('Job failed: exceeded time limit'));

    const outcome = await h.engine.runStateMachine('PceExport/ExampleParent/StateMachine', {
      ...h.target,
      input: { exportName: 'labels' },
    });

    expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.TaskFailed' });
    const cause = JSON.parse(outcome.status === 'FAILED' ? outcome.cause : '{}') as Record<string, unknown>;
    expect(cause).toMatchObject({
      Status: 'FAILED',
      Error: 'PceJobFailed',
      ExecutionArn: outcome.children[0]?.executionArn,
    });
  });

  it('names the state machines of the stack when asked for one it does not have', async () => {
    await expect(h.engine.runStateMachine('Nope', { ...h.target, input: {} })).rejects.toThrow(
      /no state machine "Nope" in the stack \(it has PceExportWorkflow, ExampleParent\)/,
    );
  });
});
