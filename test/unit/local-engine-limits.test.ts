import { describe, expect, it } from 'vitest';
import { MAX_STATE_PAYLOAD_BYTES } from '../../lambdas/contracts/limits';
import type { AslDefinition } from '../../local/stack';
import { fn, lambda, runner, sleep, stack } from './local-engine-support';

/** One Task calling `work`, caught by States.ALL into a Pass state. */
function caughtTask(task: Record<string, unknown> = {}): AslDefinition {
  return {
    StartAt: 'Call',
    States: {
      Call: {
        Type: 'Task',
        Resource: lambda('work'),
        Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
        End: true,
        ...task,
      },
      Caught: { Type: 'Pass', End: true },
    },
  };
}

/** A string that makes a JSON document of about `bytes` bytes. */
const filler = (bytes: number) => 'x'.repeat(bytes);

describe('the 256 KB payload quota', () => {
  it('fails the execution with States.DataLimitExceeded, past a States.ALL catch, when a state output is too large', async () => {
    const local = stack({
      Main: {
        StartAt: 'Grow',
        States: {
          Grow: {
            Type: 'Pass',
            Parameters: { 'copies.$': 'States.Array($.blob, $.blob)' },
            Next: 'Done',
          },
          Done: { Type: 'Succeed' },
        },
      },
    });

    const outcome = await runner(local).run({ blob: filler(MAX_STATE_PAYLOAD_BYTES / 2 + 10) });

    expect(outcome).toMatchObject({
      status: 'FAILED',
      error: 'States.DataLimitExceeded',
      cause:
        "The state/task 'Grow' returned a result with a size exceeding the maximum number of bytes service limit.",
    });
    expect(outcome.history.byType.SucceedStateEntered).toBeUndefined();
  });

  it('lets a state output just under the quota through', async () => {
    const local = stack({ Main: { StartAt: 'Keep', States: { Keep: { Type: 'Pass', End: true } } } });

    const outcome = await runner(local).run({ blob: filler(MAX_STATE_PAYLOAD_BYTES - 20) });

    expect(outcome.status).toBe('SUCCEEDED');
  });

  it('fails a Lambda result over the quota with States.DataLimitExceeded naming the function, which no Catch matches', async () => {
    const local = stack({ Main: caughtTask() }, [fn('work')]);

    const outcome = await runner(local, {
      work: async () => ({ big: filler(MAX_STATE_PAYLOAD_BYTES) }),
    }).run();

    expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(outcome.status === 'FAILED' && outcome.cause).toContain(`'${lambda('work')}'`);
    expect(outcome.history.byType.PassStateEntered).toBeUndefined();
  });

  it('fails a task whose input after Parameters is over the quota, before invoking anything', async () => {
    let invoked = false;
    const local = stack({ Main: caughtTask({ Parameters: { 'a.$': '$.blob', 'b.$': '$.blob' } }) }, [
      fn('work'),
    ]);

    const outcome = await runner(local, {
      work: async () => {
        invoked = true;
        return {};
      },
    }).run({ blob: filler(MAX_STATE_PAYLOAD_BYTES / 2 + 10) });

    expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(invoked).toBe(false);
  });
});

describe("the state machine's TimeoutSeconds", () => {
  const waiting = (timeoutSeconds: number, waitSeconds: number): AslDefinition => ({
    TimeoutSeconds: timeoutSeconds,
    StartAt: 'Hold',
    States: { Hold: { Type: 'Wait', Seconds: waitSeconds, End: true } },
  });

  it('ends an execution that runs longer as TIMED_OUT with States.Timeout', async () => {
    const outcome = await runner(stack({ Main: waiting(1, 30) })).run();

    expect(outcome).toMatchObject({
      status: 'FAILED',
      executionStatus: 'TIMED_OUT',
      error: 'States.Timeout',
      cause: '',
    });
    expect(outcome.history.byType).toMatchObject({ WaitStateEntered: 1, ExecutionTimedOut: 1 });
    expect(outcome.history.byType.WaitStateExited).toBeUndefined();
  });

  it('lets an execution that ends in time succeed', async () => {
    const outcome = await runner(stack({ Main: waiting(30, 0) })).run();

    expect(outcome).toMatchObject({ status: 'SUCCEEDED', executionStatus: 'SUCCEEDED' });
  });
});

describe('timeouts of a Task and of its function', () => {
  it('fails a function still running at its configured timeout with Sandbox.Timedout, which States.ALL catches', async () => {
    const local = stack({ Main: caughtTask({ ResultPath: '$.result' }) }, [fn('work', 1)]);
    let late = false;

    const outcome = await runner(local, {
      work: async () => {
        await sleep(2_500);
        late = true;
        return { late: true };
      },
    }).run({});

    expect(outcome.status).toBe('SUCCEEDED');
    const output = (outcome.status === 'SUCCEEDED' ? outcome.output : {}) as {
      Error?: string;
      Cause?: string;
    };
    expect(output.Error).toBe('Sandbox.Timedout');
    expect(JSON.parse(String(output.Cause))).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: expect.stringMatching(
        /^RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds$/,
      ),
    });
    expect(outcome.history.byType.LambdaFunctionFailed).toBe(1);
    expect(late).toBe(false);
  });

  it('lets a function that returns within its timeout succeed', async () => {
    const local = stack({ Main: caughtTask() }, [fn('work', 2)]);

    const outcome = await runner(local, { work: async () => ({ quick: true }) }).run({});

    expect(outcome).toMatchObject({ status: 'SUCCEEDED', output: { quick: true } });
  });

  it('fails a Task past its own TimeoutSeconds with States.Timeout, which States.TaskFailed does not match', async () => {
    const local = stack(
      {
        Main: {
          StartAt: 'Call',
          States: {
            Call: {
              Type: 'Task',
              Resource: lambda('work'),
              TimeoutSeconds: 1,
              Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'Caught' }],
              End: true,
            },
            Caught: { Type: 'Pass', End: true },
          },
        },
      },
      [fn('work', 30)],
    );

    const outcome = await runner(local, { work: () => sleep(3_000).then(() => ({})) }).run();

    expect(outcome).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
    expect(outcome.history.byType.LambdaFunctionTimedOut).toBe(1);
  });

  it('gives a Task without TimeoutSeconds longer than a minute (AWS: 99,999,999 s; the executor alone: 60 s)', async () => {
    const local = stack({ Main: caughtTask() }, [fn('work', 900)]);
    const prepared = (await import('../../local/prepare')).prepareDefinition(local.definition);

    expect(prepared.executor.States.Call).toMatchObject({ TimeoutSeconds: expect.any(Number) });
    expect((prepared.executor.States.Call as { TimeoutSeconds: number }).TimeoutSeconds).toBeGreaterThan(
      2_000_000,
    );
  });
});
