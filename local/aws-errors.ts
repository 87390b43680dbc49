import { randomUUID } from 'node:crypto';
import { MAX_EXECUTION_HISTORY_EVENTS } from '../lambdas/contracts/limits';

/*
 * Errors as Step Functions reports them: an error name (`Error`) and a cause (`Cause`). Sources:
 * - States.Runtime at the history limit: the cause AWS records in the ExecutionFailed event
 *   that is event 25,000 ("Avoid reaching the history quota", Step Functions Developer Guide).
 * - States.DataLimitExceeded: terminal, States.ALL does not catch it ("Error names", Step
 *   Functions Developer Guide); its cause is the one AWS reports for a state or task result.
 * - Service errors of optimised integrations: `<Service>.<ErrorCode>` with the AWS SDK's
 *   sentence as the cause, e.g. StepFunctions.StateMachineDoesNotExistException (recorded AWS
 *   histories) and Lambda.ServiceException ("Handle Lambda service exceptions").
 * - Lambda.Unknown: the name Step Functions gives a function error without an error type.
 * - States.ExceedToleratedFailureThreshold: a Distributed Map run past its tolerated failures.
 */

/** An error the local executor matches by `name` in Retry and Catch, with AWS's cause as message. */
export class StatesError extends Error {
  private readonly terminal: boolean;

  constructor(name: string, cause: string, options: { terminal?: boolean } = {}) {
    super(cause);
    this.name = name;
    this.terminal = options.terminal ?? false;
  }

  /** Read by aws-local-stepfunctions: terminal errors are neither retried nor caught. */
  get isRetryable(): boolean {
    return !this.terminal;
  }

  get isCatchable(): boolean {
    return !this.terminal;
  }
}

export function historyLimitExceeded(): StatesError {
  return new StatesError(
    'States.Runtime',
    `The execution reached the maximum number of history events (${MAX_EXECUTION_HISTORY_EVENTS}).`,
    { terminal: true },
  );
}

/** A state's result (or a task's, named by its resource) over the payload quota. */
export function resultTooLarge(stateOrResource: string): StatesError {
  return new StatesError(
    'States.DataLimitExceeded',
    `The state/task '${stateOrResource}' returned a result with a size exceeding the maximum number of bytes service limit.`,
    { terminal: true },
  );
}

/**
 * A state's input, after Parameters, over the payload quota. The wording follows the result
 * case above; the condition is the documented one.
 */
export function inputTooLarge(state: string): StatesError {
  return new StatesError(
    'States.DataLimitExceeded',
    `The state/task '${state}' has an input with a size exceeding the maximum number of bytes service limit.`,
    { terminal: true },
  );
}

export function toleratedFailureExceeded(): StatesError {
  return new StatesError(
    'States.ExceedToleratedFailureThreshold',
    'The specified tolerated failure threshold was exceeded',
  );
}

/** The AWS services whose errors an optimised integration names, with the SDK's service name. */
const SERVICES = {
  Lambda: 'AWSLambda',
  StepFunctions: 'AWSStepFunctions',
  EventBridge: 'AmazonEventBridge',
} as const;

/**
 * An AWS API error as an optimised integration reports it: `Lambda.ServiceException`,
 * cause "Service error. (Service: AWSLambda; Status Code: 500; Error Code: ServiceException; …)".
 */
export function serviceError(
  service: keyof typeof SERVICES,
  code: string,
  message: string,
  statusCode: number,
): StatesError {
  const name = service === 'StepFunctions' ? `${service}.${code}Exception` : `${service}.${code}`;
  return new StatesError(
    name,
    `${message} (Service: ${SERVICES[service]}; Status Code: ${statusCode}; Error Code: ${code}; Request ID: ${randomUUID()}; Proxy: null)`,
  );
}

/** A function error whose payload carries no error type. */
function lambdaUnknown(payload: string): StatesError {
  return new StatesError(
    'Lambda.Unknown',
    `The cause could not be determined because Lambda did not return an error type. Returned payload: ${payload}`,
  );
}

/** The Lambda service errors a test can inject, each with the status and message the service gives. */
const LAMBDA_SERVICE_FAULTS = {
  'Lambda.ServiceException': { code: 'ServiceException', status: 500, message: 'Service error.' },
  'Lambda.TooManyRequestsException': {
    code: 'TooManyRequestsException',
    status: 429,
    message: 'Rate Exceeded.',
  },
  // The SDK's own timeout: no response, so no status or request id in the cause.
  'Lambda.ClientExecutionTimeoutException': {
    code: 'ClientExecutionTimeoutException',
    status: 0,
    message: 'Client execution did not complete before the specified timeout configuration.',
  },
} as const;

export type LambdaServiceFault = keyof typeof LAMBDA_SERVICE_FAULTS | 'Lambda.Unknown';

export function lambdaServiceError(fault: LambdaServiceFault): StatesError {
  if (fault === 'Lambda.Unknown') return lambdaUnknown('null');
  const { code, status, message } = LAMBDA_SERVICE_FAULTS[fault];
  return status === 0 ? new StatesError(fault, message) : serviceError('Lambda', code, message, status);
}
