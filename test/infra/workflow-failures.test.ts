import '../../local/polyfills';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DefinitionBody, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { ExecutionError, StateMachine as LocalStateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { ERROR_NAMES } from '../../lambdas/export/errors';
import { FailurePath } from '../../lib/workflow-failures';
import { renderDefinition, unbundledApp } from './support';

/*
 * The failure path, run by the local executor on every shape of error a Catch can hand it: each
 * ends in the Fail state with one of the names of PRODUCT.md 3.3, none in States.Runtime.
 */

function failurePathDefinition(end: 'fail' | 'childResult') {
  const stack = new Stack(unbundledApp(), 'Test');
  const path = new FailurePath(stack, { prefix: '', end: { kind: end } });
  new StateMachine(stack, 'Machine', { definitionBody: DefinitionBody.fromChainable(path.entry) });
  return renderDefinition(Template.fromStack(stack));
}

async function failWith(definition: unknown, caught: unknown): Promise<{ error: string; cause: string }> {
  const machine = new LocalStateMachine(definition as never, { validationOptions: { noValidate: true } });
  try {
    await machine.run(caught as never).result;
  } catch (error) {
    if (error instanceof ExecutionError && error.cause instanceof Error) {
      return { error: error.cause.name, cause: error.cause.message };
    }
    throw error;
  }
  throw new Error('the failure path succeeded');
}

const lambdaError = (errorType: string, errorMessage: string) =>
  JSON.stringify({ errorType, errorMessage, trace: [`${errorType}: ${errorMessage}`, '    at handler'] });

describe('the failure path, run on every shape of caught error', () => {
  const definition = failurePathDefinition('fail');

  it.each<[string, unknown, { error: string; cause: string | RegExp }]>([
    [
      'a named function error, as the Lambda runtime reports it',
      { Error: 'PceAuthError', Cause: lambdaError('PceAuthError', 'GET /orgs/1/labels returned 401') },
      { error: 'PceAuthError', cause: 'GET /orgs/1/labels returned 401' },
    ],
    [
      "a function timeout, AWS's cause without errorType or trace",
      {
        Error: 'Sandbox.Timedout',
        Cause: '{"errorMessage":"2026-11-28T10:00:00.000Z 1b2c Task timed out after 90.00 seconds"}',
      },
      { error: 'ExportInternalError', cause: /^Sandbox\.Timedout: .*Task timed out after 90\.00 seconds$/ },
    ],
    [
      'a crash the runtime reports with its trace',
      {
        Error: 'TypeError',
        Cause: lambdaError('TypeError', "Cannot read properties of undefined (reading 'x')"),
      },
      { error: 'ExportInternalError', cause: "TypeError: Cannot read properties of undefined (reading 'x')" },
    ],
    [
      'a Lambda service error with a sentence as cause',
      {
        Error: 'Lambda.ServiceException',
        Cause: 'Service error. (Service: AWSLambda; Status Code: 500; Error Code: ServiceException)',
      },
      {
        error: 'ExportInternalError',
        cause: /^Lambda\.ServiceException: Service error\. \(Service: AWSLambda/,
      },
    ],
    [
      "a Distributed Map's plain-text threshold error",
      {
        Error: 'States.ExceedToleratedFailureThreshold',
        Cause: 'The specified tolerated failure threshold was exceeded',
      },
      {
        error: 'ExportInternalError',
        cause:
          'States.ExceedToleratedFailureThreshold: The specified tolerated failure threshold was exceeded',
      },
    ],
    [
      "a .sync:2 child's failure with the child execution's JSON",
      {
        Error: 'States.TaskFailed',
        Cause: JSON.stringify({
          ExecutionArn: 'arn:aws:states:us-east-1:1:execution:m:c',
          Status: 'FAILED',
          Error: 'PceJobFailed',
          Cause: 'job failed',
        }),
      },
      { error: 'ExportInternalError', cause: /^States\.TaskFailed: \{"ExecutionArn"/ },
    ],
    [
      "EventBridge's failed entries with the PutEvents response",
      {
        Error: 'EventBridge.FailedEntry',
        Cause:
          '{"Entries":[{"ErrorCode":"InternalFailure","ErrorMessage":"Internal Failure"}],"FailedEntryCount":1}',
      },
      { error: 'ExportInternalError', cause: /^EventBridge\.FailedEntry: \{"Entries"/ },
    ],
    [
      'a task timeout without a cause',
      { Error: 'States.Timeout' },
      { error: 'ExportInternalError', cause: 'States.Timeout (no cause given)' },
    ],
    [
      'a task timeout with an empty cause',
      { Error: 'States.Timeout', Cause: '' },
      { error: 'ExportInternalError', cause: 'States.Timeout (no cause given)' },
    ],
    [
      'a named error with a plain-text cause',
      { Error: 'PceUnavailable', Cause: 'the PCE was down' },
      { error: 'PceUnavailable', cause: 'the PCE was down' },
    ],
    [
      'a named error without a cause',
      { Error: 'ExportStorageError' },
      { error: 'ExportStorageError', cause: 'ExportStorageError (no cause given)' },
    ],
    [
      'a cause that looks like a function error but is not JSON',
      { Error: 'Sandbox.Timedout', Cause: '{"errorMessage": not json at all}' },
      { error: 'ExportInternalError', cause: 'Sandbox.Timedout: {"errorMessage": not json at all}' },
    ],
    [
      'a function error cut short',
      { Error: 'RangeError', Cause: lambdaError('RangeError', 'too deep').slice(0, 60) },
      {
        error: 'ExportInternalError',
        cause: `RangeError: ${lambdaError('RangeError', 'too deep').slice(0, 60)}`,
      },
    ],
  ] as const)('ends %s in a named Fail', async (_, caught, expected) => {
    const { error, cause } = await failWith(definition, caught);

    expect(ERROR_NAMES).toContain(error);
    expect(error).toBe(expected.error);
    if (typeof expected.cause === 'string') expect(cause).toBe(expected.cause);
    else expect(cause).toMatch(expected.cause);
  });

  it('ends a JSON cause whose errorMessage is not where a function puts it in ExportInternalError with the raw cause', async () => {
    const raw = '{"outer":{"errorMessage":"deep"}}';

    await expect(failWith(definition, { Error: 'Weird.Error', Cause: raw })).resolves.toEqual({
      error: 'ExportInternalError',
      cause: `Weird.Error: ${raw}`,
    });
  });
});

describe("the failure path of a snapshot member's child execution", () => {
  const definition = failurePathDefinition('childResult');

  it('ends the child with the described failure as its result instead of failing it', async () => {
    const machine = new LocalStateMachine(definition as never, { validationOptions: { noValidate: true } });

    const result = await machine.run({
      Error: 'Sandbox.Timedout',
      Cause: '{"errorMessage":"Task timed out after 90.00 seconds"}',
    } as never).result;

    expect(result).toEqual({
      failed: true,
      failure: {
        error: 'ExportInternalError',
        cause: 'Sandbox.Timedout: Task timed out after 90.00 seconds',
        original: { error: 'Sandbox.Timedout', cause: 'Task timed out after 90.00 seconds' },
      },
    });
  });

  it('keeps a named error and its message', async () => {
    const machine = new LocalStateMachine(definition as never, { validationOptions: { noValidate: true } });

    const result = await machine.run({
      Error: 'PceAuthError',
      Cause: lambdaError('PceAuthError', '401 from the PCE'),
    } as never).result;

    expect(result).toMatchObject({
      failed: true,
      failure: { error: 'PceAuthError', cause: '401 from the PCE' },
    });
  });
});
