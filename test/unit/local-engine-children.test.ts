import { describe, expect, it } from 'vitest';
import type { ExecutionRecord } from '../../local/execution';
import type { AslDefinition } from '../../local/stack';
import { fn, lambda, runner, sleep, stack } from './local-engine-support';

const CHILD_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:Child';

function parent(resource: string, stateMachineArn = CHILD_ARN): AslDefinition {
  return {
    StartAt: 'Run',
    States: {
      Run: {
        Type: 'Task',
        Resource: resource,
        Parameters: { 'Input.$': '$', StateMachineArn: stateMachineArn },
        End: true,
      },
    },
  };
}

const child: AslDefinition = {
  StartAt: 'Work',
  States: { Work: { Type: 'Task', Resource: lambda('work'), End: true } },
};

function distributed(map: Record<string, unknown>): AslDefinition {
  return {
    StartAt: 'Each',
    States: {
      Each: {
        Type: 'Map',
        ItemsPath: '$.items',
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'Work',
          States: { Work: { Type: 'Task', Resource: lambda('work'), End: true } },
        },
        End: true,
        ...map,
      },
    },
  };
}

describe('startExecution tasks', () => {
  it('run the child with its own history and return its output as JSON for .sync:2', async () => {
    const local = stack({ Parent: parent('arn:aws:states:::states:startExecution.sync:2'), Child: child }, [
      fn('work'),
    ]);

    const outcome = await runner(local, { work: async (event) => ({ seen: event }) }).run({ n: 1 });

    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.status === 'SUCCEEDED' && outcome.output).toMatchObject({
      ExecutionArn: expect.stringMatching(
        /^arn:aws:states:us-east-1:000000000000:execution:Child:[0-9a-f-]{36}$/,
      ),
      Input: { n: 1 },
      Output: { seen: { n: 1 } },
      Status: 'SUCCEEDED',
      StateMachineArn: CHILD_ARN,
      StartDate: expect.any(Number),
      StopDate: expect.any(Number),
    });
    expect(outcome.history.byType).toMatchObject({
      TaskScheduled: 1,
      TaskStarted: 1,
      TaskSubmitted: 1,
      TaskSucceeded: 1,
    });
    expect(outcome.history.byType.LambdaFunctionScheduled).toBeUndefined();
    expect(outcome.children).toHaveLength(1);
    expect(outcome.children[0]?.history.byType.LambdaFunctionSucceeded).toBe(1);
  });

  it('return Input and Output as JSON strings for .sync', async () => {
    const local = stack({ Parent: parent('arn:aws:states:::states:startExecution.sync'), Child: child }, [
      fn('work'),
    ]);

    const outcome = await runner(local, { work: async () => ({ ok: true }) }).run({ n: 1 });

    expect(outcome.status === 'SUCCEEDED' && outcome.output).toMatchObject({
      Input: '{"n":1}',
      Output: '{"ok":true}',
    });
  });

  it('fail with States.TaskFailed and the child execution, error and cause included, as the cause', async () => {
    const local = stack({ Parent: parent('arn:aws:states:::states:startExecution.sync:2'), Child: child }, [
      fn('work'),
    ]);

    const outcome = await runner(local, {
      work: async () => {
        throw Object.assign(new Error('401 from the PCE'), { name: 'PceAuthError' });
      },
    }).run();

    expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.TaskFailed' });
    const cause = JSON.parse(outcome.status === 'FAILED' ? outcome.cause : '{}') as Record<string, unknown>;
    expect(cause).toMatchObject({ Status: 'FAILED', Error: 'PceAuthError', RedriveStatus: 'REDRIVABLE' });
    expect(JSON.parse(String(cause.Cause))).toMatchObject({ errorMessage: '401 from the PCE' });
  });

  it('fail with StepFunctions.StateMachineDoesNotExistException for an unknown state machine', async () => {
    const local = stack({
      Parent: parent('arn:aws:states:::states:startExecution.sync:2', `${CHILD_ARN}-gone`),
    });

    const outcome = await runner(local).run();

    expect(outcome).toMatchObject({
      status: 'FAILED',
      error: 'StepFunctions.StateMachineDoesNotExistException',
    });
    expect(outcome.status === 'FAILED' && outcome.cause).toMatch(
      /^State Machine Does Not Exist: '.*-gone' \(Service: AWSStepFunctions; Status Code: 400; Error Code: StateMachineDoesNotExist;/,
    );
  });

  it("stop a child whose own TimeoutSeconds passes, and fail the parent with the child's TIMED_OUT status", async () => {
    const slow: AslDefinition = {
      TimeoutSeconds: 1,
      StartAt: 'Hold',
      States: { Hold: { Type: 'Wait', Seconds: 30, End: true } },
    };
    const local = stack({ Parent: parent('arn:aws:states:::states:startExecution.sync:2'), Child: slow });

    const outcome = await runner(local).run();

    expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.TaskFailed' });
    expect(outcome.children[0]).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
  });
});

describe('stopping an execution', () => {
  it('ends it ABORTED, and stops the .sync child it is waiting for', async () => {
    const slow: AslDefinition = {
      StartAt: 'Hold',
      States: { Hold: { Type: 'Wait', Seconds: 30, End: true } },
    };
    const local = stack({ Parent: parent('arn:aws:states:::states:startExecution.sync:2'), Child: slow });
    const stop = new AbortController();

    const running = runner(local).run({}, { signal: stop.signal });
    await sleep(300);
    stop.abort();
    const outcome = await running;

    expect(outcome).toMatchObject({ status: 'FAILED', executionStatus: 'ABORTED' });
    expect(outcome.history.byType.ExecutionAborted).toBe(1);
    expect(outcome.children[0]).toMatchObject({ status: 'ABORTED' });
  });
});

describe('a Distributed Map', () => {
  it('runs each item as a child execution, counting only the Map run in the parent history', async () => {
    const local = stack({ Main: distributed({ ResultSelector: { 'all.$': '$' } }) }, [fn('work')]);

    const outcome = await runner(local, { work: async (item) => ({ doubled: Number(item) * 2 }) }).run({
      items: [1, 2, 3, 4],
    });

    expect(outcome).toMatchObject({
      status: 'SUCCEEDED',
      output: { all: [2, 4, 6, 8].map((doubled) => ({ doubled })) },
    });
    expect(outcome.history.byType).toEqual({
      ExecutionStarted: 1,
      MapStateEntered: 1,
      MapStateStarted: 1,
      MapRunStarted: 1,
      MapRunSucceeded: 1,
      MapStateSucceeded: 1,
      MapStateExited: 1,
      ExecutionSucceeded: 1,
    });
    expect(outcome.children).toHaveLength(4);
    for (const record of outcome.children) {
      expect(record.executionArn).toMatch(/:execution:Main\/Each:[0-9a-f-]{36}$/);
      expect(record.history.events).toBe(7);
    }
  });

  it("gives ItemSelector the item, its index and the parent's context, and applies ResultPath", async () => {
    const local = stack(
      {
        Main: distributed({
          ItemSelector: {
            'value.$': '$$.Map.Item.Value',
            'index.$': '$$.Map.Item.Index',
            'run.$': '$$.Execution.Name',
          },
          ResultPath: '$.results',
        }),
      },
      [fn('work')],
    );

    const outcome = await runner(local, { work: async (item) => item }).run({ items: ['a', 'b'] });

    expect(outcome.status === 'SUCCEEDED' && outcome.output).toEqual({
      items: ['a', 'b'],
      results: [
        { value: 'a', index: 0, run: outcome.executionName },
        { value: 'b', index: 1, run: outcome.executionName },
      ],
    });
  });

  it('runs at most MaxConcurrency children at a time', async () => {
    let running = 0;
    let most = 0;
    const local = stack({ Main: distributed({ MaxConcurrency: 2 }) }, [fn('work')]);

    const outcome = await runner(local, {
      work: async () => {
        running++;
        most = Math.max(most, running);
        await sleep(50);
        running--;
        return {};
      },
    }).run({ items: [1, 2, 3, 4, 5, 6] });

    expect(outcome.status).toBe('SUCCEEDED');
    expect(most).toBe(2);
  });

  it('fails with States.ExceedToleratedFailureThreshold on the first failure when none is tolerated', async () => {
    const local = stack({ Main: distributed({ MaxConcurrency: 1 }) }, [fn('work')]);

    const outcome = await runner(local, {
      work: async (item) => {
        if (item === 2) throw new Error('member failed');
        return {};
      },
    }).run({ items: [1, 2, 3, 4] });

    expect(outcome).toMatchObject({
      status: 'FAILED',
      error: 'States.ExceedToleratedFailureThreshold',
      cause: 'The specified tolerated failure threshold was exceeded',
    });
    expect(outcome.history.byType).toMatchObject({ MapRunFailed: 1, MapStateFailed: 1 });
    expect(outcome.children.map((record: ExecutionRecord) => record.status)).toEqual(['SUCCEEDED', 'FAILED']);
  });

  it('tolerates ToleratedFailureCount failures and returns their execution records among the results', async () => {
    const local = stack({ Main: distributed({ ToleratedFailureCount: 1 }) }, [fn('work')]);

    const outcome = await runner(local, {
      work: async (item) => {
        if (item === 2) throw new Error('member failed');
        return { item };
      },
    }).run({ items: [1, 2, 3] });

    expect(outcome.status).toBe('SUCCEEDED');
    const results = (outcome.status === 'SUCCEEDED' ? outcome.output : []) as Record<string, unknown>[];
    expect(results[0]).toEqual({ item: 1 });
    expect(results[1]).toMatchObject({ Status: 'FAILED', Error: 'Error', Input: '2' });
    expect(results[2]).toEqual({ item: 3 });
  });

  it('fails once the failures pass ToleratedFailurePercentage', async () => {
    const local = stack({ Main: distributed({ ToleratedFailurePercentage: 25, MaxConcurrency: 1 }) }, [
      fn('work'),
    ]);
    const failing = new Set([1, 2]);

    const outcome = await runner(local, {
      work: async (item) => {
        if (failing.has(Number(item))) throw new Error('member failed');
        return {};
      },
    }).run({ items: [1, 2, 3, 4] });

    expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.ExceedToleratedFailureThreshold' });
    expect(outcome.children).toHaveLength(2);
  });
});
