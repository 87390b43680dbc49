import type { HandlerName } from './definition';

/** A handler module's `handler`, called as the Lambda runtime would call it. */
export type LambdaHandler = (event: unknown, context?: unknown) => Promise<unknown>;

/** Largest payload Step Functions passes between states. */
const MAX_PAYLOAD_BYTES = 256 * 1024;

/** The local stand-in for invoking a Lambda function. */
export type LocalInvoke = (event: unknown) => Promise<unknown>;

/**
 * Loads the real handler modules. Imported lazily, so that the standard AWS_* environment
 * variables (endpoints, region) are in place before the SDK clients at module scope are created.
 */
export async function loadHandlers(): Promise<Record<HandlerName, LambdaHandler>> {
  const [submit, poll, fetch, snapshot] = await Promise.all([
    import('../lambdas/handlers/submit'),
    import('../lambdas/handlers/poll'),
    import('../lambdas/handlers/fetch'),
    import('../lambdas/handlers/snapshot'),
  ]);
  return {
    submit: submit.handler as LambdaHandler,
    poll: poll.handler as LambdaHandler,
    fetch: fetch.handler as LambdaHandler,
    snapshot: snapshot.handler as LambdaHandler,
  };
}

/**
 * Wraps a handler the way the Lambda service does for Step Functions: the event and the result
 * cross a JSON boundary (and the 256 KB limit), and a thrown error reaches the state machine with
 * `Error` = the error's name and `Cause` = the runtime's JSON `{errorType, errorMessage, trace}`.
 */
export function asLambda(functionName: string, handler: LambdaHandler): LocalInvoke {
  return async (event) => {
    const payload = JSON.parse(JSON.stringify(event ?? null)) as unknown;
    let result: unknown;
    try {
      result = await handler(payload, localContext(functionName));
    } catch (error) {
      throw lambdaError(error);
    }
    const serialised = JSON.stringify(result ?? null);
    if (Buffer.byteLength(serialised) > MAX_PAYLOAD_BYTES) {
      throw namedError('States.DataLimitExceeded', `${functionName} returned more than 256 KB`);
    }
    return JSON.parse(serialised) as unknown;
  };
}

function lambdaError(error: unknown): Error {
  const source = error instanceof Error ? error : new Error(String(error));
  const cause = JSON.stringify({
    errorType: source.name,
    errorMessage: source.message,
    trace: (source.stack ?? '').split('\n'),
  });
  return namedError(source.name, cause);
}

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

function localContext(functionName: string) {
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 900_000,
  };
}
