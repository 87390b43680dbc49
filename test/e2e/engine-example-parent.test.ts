import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config';
import { DEFAULT_CONFIG_PATH } from '../../local/definition';
import { type LocalEngine, type LocalRunOptions, startLocalEngine } from '../../local/engine';
import { fault, type RunningSimulator, startSimulator } from '../../simulator/index';

const BUCKET = 'exports';

describe('the example parent state machine, run locally', () => {
  let simulator: RunningSimulator;
  let engine: LocalEngine;
  let target: Omit<LocalRunOptions, 'input'>;

  beforeAll(async () => {
    simulator = await startSimulator({
      tls: true,
      jobDurationMs: 400,
      retryAfterSeconds: 1,
      dataset: { labels: 20 },
    });
    engine = await startLocalEngine({
      s3: { embedded: true, bucket: BUCKET },
      config: { ...loadConfig(DEFAULT_CONFIG_PATH), exampleParent: true },
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
      prefix: 'pce/',
    };
  });
  afterEach(() => simulator.faults.clear());
  afterAll(async () => {
    await engine?.close();
    await simulator?.close();
  });

  it('starts the export as a child execution with startExecution.sync:2 and reads its output', async () => {
    const outcome = await engine.runStateMachine('ExampleParent', {
      ...target,
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
    const exported = engine.events.sentBy(String(child?.executionArn));
    expect(exported.map((event) => event.detailType)).toEqual(['Export Succeeded']);
  });

  it('keeps the export in the child history: the parent writes twelve events', async () => {
    const outcome = await engine.runStateMachine('ExampleParent', {
      ...target,
      input: { exportName: 'labels' },
    });

    expect(outcome.history.events).toBe(12);
    expect(outcome.history.byType).toMatchObject({ TaskSubmitted: 1, TaskSucceeded: 1 });
    expect(outcome.history.byType.LambdaFunctionScheduled).toBeUndefined();
    expect(outcome.children[0]?.history.byType.LambdaFunctionScheduled).toBeGreaterThanOrEqual(3);
  });

  it("fails with States.TaskFailed and the export's error in the cause when the export fails", async () => {
    simulator.faults.add(fault.jobFails('Job failed: exceeded time limit'));

    const outcome = await engine.runStateMachine('PceExport/ExampleParent/StateMachine', {
      ...target,
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
    await expect(engine.runStateMachine('Nope', { ...target, input: {} })).rejects.toThrow(
      /no state machine "Nope" in the stack \(it has PceExportWorkflow, ExampleParent\)/,
    );
  });
});
