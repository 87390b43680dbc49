import { describe, expect, it } from 'vitest';
import type { AslDefinition } from '../../local/stack';
import { fn, lambda, runner, stack } from './local-engine-support';

/** Counts up to `n` with a Pass and a Choice: 4n + 8 history events in all. */
function loop(n: number): AslDefinition {
  return {
    StartAt: 'Init',
    States: {
      Init: { Type: 'Pass', Result: { i: 0 }, Next: 'Check' },
      Check: {
        Type: 'Choice',
        Choices: [{ Variable: '$.i', NumericGreaterThanEquals: n, Next: 'Done' }],
        Default: 'Increment',
      },
      Increment: { Type: 'Pass', Parameters: { 'i.$': 'States.MathAdd($.i, 1)' }, Next: 'Check' },
      Done: { Type: 'Succeed' },
    },
  };
}

describe('the history of a local execution', () => {
  it('has the events AWS writes for a Lambda task that succeeds', async () => {
    const local = stack(
      { Main: { StartAt: 'Call', States: { Call: { Type: 'Task', Resource: lambda('work'), End: true } } } },
      [fn('work')],
    );

    const outcome = await runner(local, { work: async () => ({ ok: true }) }).run();

    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.history).toEqual({
      events: 7,
      byType: {
        ExecutionStarted: 1,
        TaskStateEntered: 1,
        LambdaFunctionScheduled: 1,
        LambdaFunctionStarted: 1,
        LambdaFunctionSucceeded: 1,
        TaskStateExited: 1,
        ExecutionSucceeded: 1,
      },
    });
  });

  it('writes one Scheduled/Started/Failed triple per failed attempt, and an Exited event after a Catch', async () => {
    const local = stack(
      {
        Main: {
          StartAt: 'Call',
          States: {
            Call: {
              Type: 'Task',
              Resource: lambda('work'),
              Retry: [{ ErrorEquals: ['Flaky'], MaxAttempts: 2 }],
              Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Recovered' }],
              End: true,
            },
            Recovered: { Type: 'Pass', End: true },
          },
        },
      },
      [fn('work')],
    );
    const failure = Object.assign(new Error('try again'), { name: 'Flaky' });

    const outcome = await runner(local, {
      work: async () => {
        throw failure;
      },
    }).run();

    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.history.byType).toEqual({
      ExecutionStarted: 1,
      TaskStateEntered: 1,
      LambdaFunctionScheduled: 3,
      LambdaFunctionStarted: 3,
      LambdaFunctionFailed: 3,
      TaskStateExited: 1,
      PassStateEntered: 1,
      PassStateExited: 1,
      ExecutionSucceeded: 1,
    });
    expect(outcome.history.events).toBe(15);
  });

  it('ends an uncaught failure with ExecutionFailed and no Exited event', async () => {
    const local = stack(
      { Main: { StartAt: 'Call', States: { Call: { Type: 'Task', Resource: lambda('work'), End: true } } } },
      [fn('work')],
    );

    const outcome = await runner(local, {
      work: async () => {
        throw new TypeError('bad');
      },
    }).run();

    expect(outcome).toMatchObject({ status: 'FAILED', error: 'TypeError' });
    expect(outcome.history.events).toBe(6);
    expect(outcome.history.byType.TaskStateExited).toBeUndefined();
    expect(outcome.history.byType.ExecutionFailed).toBe(1);
  });

  it('counts two events per Pass, Choice, Wait and Succeed state, one for a Fail state', async () => {
    const local = stack({
      Main: {
        StartAt: 'P',
        States: {
          P: { Type: 'Pass', Next: 'W' },
          W: { Type: 'Wait', Seconds: 0, Next: 'C' },
          C: {
            Type: 'Choice',
            Choices: [{ Variable: '$.stop', BooleanEquals: true, Next: 'F' }],
            Default: 'S',
          },
          S: { Type: 'Succeed' },
          F: { Type: 'Fail', Error: 'Stopped' },
        },
      },
    });

    const succeeded = await runner(local).run({ stop: false });
    const failed = await runner(local).run({ stop: true });

    expect(succeeded.history.events).toBe(1 + 2 + 2 + 2 + 2 + 1);
    expect(failed.history.byType).toMatchObject({ FailStateEntered: 1, ExecutionFailed: 1 });
    expect(failed.history.events).toBe(1 + 2 + 2 + 2 + 1 + 1);
  });

  it('counts an inline Map with its iterations and their states', async () => {
    const local = stack({
      Main: {
        StartAt: 'Each',
        States: {
          Each: {
            Type: 'Map',
            ItemsPath: '$.items',
            ItemProcessor: { StartAt: 'Item', States: { Item: { Type: 'Pass', End: true } } },
            End: true,
          },
        },
      },
    });

    const outcome = await runner(local).run({ items: [1, 2, 3] });

    expect(outcome.history.byType).toEqual({
      ExecutionStarted: 1,
      MapStateEntered: 1,
      MapStateStarted: 1,
      MapIterationStarted: 3,
      PassStateEntered: 3,
      PassStateExited: 3,
      MapIterationSucceeded: 3,
      MapStateSucceeded: 1,
      MapStateExited: 1,
      ExecutionSucceeded: 1,
    });
  });

  it('counts events:putEvents as a request-response service task', async () => {
    const local = stack({
      Main: {
        StartAt: 'Notify',
        States: {
          Notify: {
            Type: 'Task',
            Resource: 'arn:aws:states:::events:putEvents',
            Parameters: { Entries: [{ Source: 'test', DetailType: 'Done', Detail: {} }] },
            End: true,
          },
        },
      },
    });

    const outcome = await runner(local).run();

    expect(outcome.history.byType).toEqual({
      ExecutionStarted: 1,
      TaskStateEntered: 1,
      TaskScheduled: 1,
      TaskStarted: 1,
      TaskSucceeded: 1,
      TaskStateExited: 1,
      ExecutionSucceeded: 1,
    });
  });
});

describe('the 25,000-event history quota', () => {
  it('fails an execution that would write more events with States.Runtime at event 25,000', async () => {
    const outcome = await runner(stack({ Main: loop(6_249) })).run();

    expect(outcome).toMatchObject({
      status: 'FAILED',
      executionStatus: 'FAILED',
      error: 'States.Runtime',
      cause: 'The execution reached the maximum number of history events (25000).',
    });
    expect(outcome.history.events).toBe(25_000);
    expect(outcome.history.byType.ExecutionFailed).toBe(1);
    expect(outcome.history.byType.SucceedStateEntered).toBeUndefined();
  });

  it('lets an execution succeed whose 25,000th event is ExecutionSucceeded', async () => {
    const outcome = await runner(stack({ Main: loop(6_248) })).run();

    expect(outcome).toMatchObject({ status: 'SUCCEEDED', output: { i: 6_248 } });
    expect(outcome.history.events).toBe(25_000);
  });
});
