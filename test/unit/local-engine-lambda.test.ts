import { describe, expect, it } from 'vitest';
import type { AslDefinition } from '../../local/stack';
import { fn, lambda, runner, stack } from './local-engine-support';

/** One Task calling `work`, retried on the Lambda service's transient errors. */
const retried: AslDefinition = {
  StartAt: 'Call',
  States: {
    Call: {
      Type: 'Task',
      Resource: lambda('work'),
      Retry: [
        {
          ErrorEquals: [
            'Lambda.ServiceException',
            'Lambda.TooManyRequestsException',
            'Lambda.ClientExecutionTimeoutException',
            'Lambda.Unknown',
          ],
          MaxAttempts: 2,
        },
      ],
      End: true,
    },
  },
};

async function failureOf(thrown: () => unknown) {
  const local = stack({ Main: retried }, [fn('work')]);
  const outcome = await runner(local, {
    work: async () => {
      throw thrown();
    },
  }).run();
  if (outcome.status !== 'FAILED') throw new Error('expected the execution to fail');
  return { error: outcome.error, cause: JSON.parse(outcome.cause) as Record<string, unknown> };
}

describe("a function's errors as the Node.js runtime reports them", () => {
  it('names a thrown Error by its name, with errorType, errorMessage and the stack as trace', async () => {
    const failure = await failureOf(() =>
      Object.assign(new Error('no such job'), { name: 'PceRequestError' }),
    );

    expect(failure.error).toBe('PceRequestError');
    expect(failure.cause).toEqual({
      errorType: 'PceRequestError',
      errorMessage: 'no such job',
      trace: expect.arrayContaining([expect.stringContaining('PceRequestError: no such job')]),
    });
  });

  it('names a thrown string by its type, with an empty trace', async () => {
    const failure = await failureOf(() => 'gave up');

    expect(failure).toEqual({
      error: 'string',
      cause: { errorType: 'string', errorMessage: 'gave up', trace: [] },
    });
  });

  it('names a thrown plain object "object"', async () => {
    const failure = await failureOf(() => ({ code: 42 }));

    expect(failure).toEqual({
      error: 'object',
      cause: { errorType: 'object', errorMessage: '[object Object]', trace: [] },
    });
  });

  it('reports a thrown null as the runtime does when it cannot read the error', async () => {
    const failure = await failureOf(() => null);

    expect(failure.error).toBe('handled');
    expect(failure.cause.errorMessage).toMatch(/problem while retrieving/);
  });
});

describe('Lambda service faults', () => {
  it.each([
    'Lambda.ServiceException',
    'Lambda.TooManyRequestsException',
    'Lambda.ClientExecutionTimeoutException',
    'Lambda.Unknown',
  ] as const)('fails an invocation with %s, which the Retry retries', async (error) => {
    let calls = 0;
    const run = runner(stack({ Main: retried }, [fn('work')]), {
      work: async () => {
        calls++;
        return { calls };
      },
    });
    run.lambdaFaults.inject({ handler: 'work' }, { error });

    const outcome = await run.run();

    expect(outcome).toMatchObject({ status: 'SUCCEEDED', output: { calls: 1 } });
    expect(run.lambdaFaults.delivered).toHaveLength(1);
    expect(outcome.history.byType.LambdaFunctionFailed).toBe(1);
  });

  it('gives a service error the cause shape of the AWS SDK, with status, code and request id', async () => {
    const run = runner(stack({ Main: retried }, [fn('work')]), { work: async () => ({}) });
    run.lambdaFaults.inject({ handler: 'work' }, { error: 'Lambda.TooManyRequestsException' }, { times: 3 });

    const outcome = await run.run();

    expect(outcome).toMatchObject({ status: 'FAILED', error: 'Lambda.TooManyRequestsException' });
    expect(outcome.status === 'FAILED' && outcome.cause).toMatch(
      /^Rate Exceeded\. \(Service: AWSLambda; Status Code: 429; Error Code: TooManyRequestsException; Request ID: [0-9a-f-]{36}; Proxy: null\)$/,
    );
  });

  it('runs the function before failing when the fault comes after it, and never when it comes before', async () => {
    const calls: string[] = [];
    const run = runner(stack({ Main: retried }, [fn('work')]), {
      work: async () => {
        calls.push('ran');
        return {};
      },
    });
    run.lambdaFaults.inject({ handler: 'work' }, { error: 'Lambda.ServiceException' });
    run.lambdaFaults.inject(
      { handler: 'work' },
      { error: 'Lambda.ClientExecutionTimeoutException', when: 'after' },
    );

    const outcome = await run.run();

    expect(outcome.status).toBe('SUCCEEDED');
    expect(calls).toEqual(['ran', 'ran']);
  });

  it('leaves functions the fault does not select alone', async () => {
    const run = runner(stack({ Main: retried }, [fn('work')]), { work: async () => ({ ok: 1 }) });
    run.lambdaFaults.inject({ handler: 'other' }, { error: 'Lambda.ServiceException' });

    const outcome = await run.run();

    expect(outcome).toMatchObject({ status: 'SUCCEEDED', output: { ok: 1 } });
    expect(run.lambdaFaults.delivered).toEqual([]);
  });
});
