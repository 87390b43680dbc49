import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ExportConfigError } from '../../lambdas/contracts/errors';
import { appendKeys, lambdaHandler } from '../../lambdas/handlers/powertools';

let lines: Record<string, unknown>[] = [];

beforeEach(() => {
  lines = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      return true;
    });
  }
});

const context = {
  functionName: 'pce-export-poll',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:pce-export-poll',
  memoryLimitInMB: '256',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  logGroupName: '/aws/lambda/pce-export-poll',
  logStreamName: 'stream',
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 60_000,
};

describe('lambdaHandler', () => {
  it('passes the event through and returns the result', async () => {
    const handler = lambdaHandler('Poll', async (event: { n: number }) => {
      appendKeys({ exportName: 'labels' });
      return { doubled: event.n * 2 };
    });

    await expect(handler({ n: 21 }, context)).resolves.toEqual({ doubled: 42 });
  });

  it('logs a failure once with the invocation keys and rethrows the same error', async () => {
    const error = new ExportConfigError('Invalid input: input.path is required');
    const handler = lambdaHandler('Submit', async () => {
      appendKeys({ executionName: 'run-1' });
      throw error;
    });

    await expect(handler({}, context)).rejects.toBe(error);
    const failures = lines.filter((line) => line.message === 'Submit failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      level: 'ERROR',
      executionName: 'run-1',
      function_request_id: context.awsRequestId,
      error: { name: 'ExportConfigError', message: error.message },
    });
  });

  it("starts each invocation with none of the previous one's keys", async () => {
    let calls = 0;
    const handler = lambdaHandler('Fetch', async () => {
      calls += 1;
      if (calls === 1) appendKeys({ jobHref: '/orgs/1/jobs/1' });
      throw new ExportConfigError(`call ${calls}`);
    });

    await handler({}, context).catch(() => undefined);
    await handler({}, context).catch(() => undefined);

    const failures = lines.filter((line) => line.message === 'Fetch failed');
    expect(failures.map((line) => line.jobHref)).toEqual(['/orgs/1/jobs/1', undefined]);
  });

  it('runs without a Lambda context, as the local engine and tests call it', async () => {
    const handler = lambdaHandler('Poll', async () => 'polled');

    await expect(handler({})).resolves.toBe('polled');
  });
});
