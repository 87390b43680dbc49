import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { types } from 'node:util';
import { MAX_LAMBDA_TIMEOUT_SECONDS, MAX_STATE_PAYLOAD_BYTES } from '../lambdas/contracts/limits';
import { type LambdaServiceFault, lambdaServiceError, resultTooLarge, StatesError } from './aws-errors';

/** A handler module's `handler`, called as the Lambda runtime would call it. */
export type LambdaHandler = (event: unknown, context?: unknown) => Promise<unknown>;

/** The local stand-in for invoking a Lambda function. */
type LocalInvoke = (event: unknown) => Promise<unknown>;

const REPO_ROOT = join(import.meta.dirname, '..');

/** Handler modules the command line's bundle carries (bin/cli-bundle.mjs), by path relative to the repository root. */
const bundledHandlers = new Map<string, () => Promise<unknown>>();

/** Registers the handler modules of a bundle; the engine imports any other module from its file. */
export function registerBundledHandlers(modules: Readonly<Record<string, () => Promise<unknown>>>): void {
  for (const [module, load] of Object.entries(modules)) bundledHandlers.set(module, load);
}

/**
 * Loads handler modules (paths relative to the repository root) by handler name. Imported lazily,
 * so that the standard AWS_* environment variables (endpoints, region) are in place before the
 * SDK clients at module scope are created.
 */
export async function loadHandlers(
  modules: Readonly<Record<string, string>>,
): Promise<Record<string, LambdaHandler>> {
  const entries = await Promise.all(
    Object.entries(modules).map(async ([name, module]) => {
      const loaded = (await (bundledHandlers.get(module)?.() ?? import(join(REPO_ROOT, module)))) as {
        handler?: unknown;
      };
      if (typeof loaded.handler !== 'function') throw new Error(`${module} exports no handler function`);
      return [name, loaded.handler as LambdaHandler] as const;
    }),
  );
  return Object.fromEntries(entries);
}

export interface LambdaOptions {
  /** The function's configured timeout. @default 900 (Lambda's maximum) */
  readonly timeoutSeconds?: number;
  /** @default 1024 */
  readonly memorySize?: number;
  /** The function's ARN, for the context and for a result over the payload quota. */
  readonly arn?: string;
  /** A Lambda service error instead of (`before`) or after (`after`) running the function. */
  readonly fault?: { readonly error: LambdaServiceFault; readonly when?: 'before' | 'after' };
}

/**
 * Wraps a handler the way the Lambda service and the Node.js runtime do for Step Functions: the
 * event and the result cross a JSON boundary (and the 256 KB state payload quota); a thrown
 * Error reaches the state machine with `Error` = its name and `Cause` = the runtime's JSON
 * `{errorType, errorMessage, trace}` (a thrown non-Error: `errorType` is its `typeof`); an
 * unhandled rejection or uncaught exception during the invocation fails it the way the runtime
 * reports a crash; a function still running at its configured timeout fails with
 * `Sandbox.Timedout`, and whatever it does afterwards is discarded, as Lambda stops a timed-out
 * sandbox. Sources: the Node.js runtime interface client (aws-lambda-nodejs-runtime-interface-client,
 * `Errors.js` and `Runtime.js`) and the Lambda runtime interface emulator's timeout response.
 */
export function asLambda(
  functionName: string,
  handler: LambdaHandler,
  options: LambdaOptions = {},
): LocalInvoke {
  const timeoutSeconds = options.timeoutSeconds ?? MAX_LAMBDA_TIMEOUT_SECONDS;
  const arn = options.arn ?? `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`;
  return async (event) => {
    if (options.fault && (options.fault.when ?? 'before') === 'before')
      throw lambdaServiceError(options.fault.error);
    const payload = JSON.parse(JSON.stringify(event ?? null)) as unknown;
    const requestId = randomUUID();
    const deadline = Date.now() + timeoutSeconds * 1000;
    const context = lambdaContext(functionName, arn, requestId, deadline, options.memorySize ?? 1024);
    const outcome = await invokeOnce(handler, payload, context, timeoutSeconds * 1000, requestId);
    if (options.fault) throw lambdaServiceError(options.fault.error);
    if ('error' in outcome) throw functionError(outcome.error);
    const serialised = JSON.stringify(outcome.result ?? null);
    if (Buffer.byteLength(serialised) > MAX_STATE_PAYLOAD_BYTES) throw resultTooLarge(arn);
    return JSON.parse(serialised) as unknown;
  };
}

/** The error payload the runtime posts for a failed invocation. */
interface RuntimeErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace?: readonly string[];
}

interface Invocation {
  settled: boolean;
  crash(payload: RuntimeErrorPayload): void;
}

const invocations = new AsyncLocalStorage<Invocation>();
let inFlight = 0;

async function invokeOnce(
  handler: LambdaHandler,
  payload: unknown,
  context: unknown,
  timeoutMs: number,
  requestId: string,
): Promise<{ result: unknown } | { error: RuntimeErrorPayload }> {
  let resolve: (outcome: { result: unknown } | { error: RuntimeErrorPayload }) => void = () => {};
  const promise = new Promise<{ result: unknown } | { error: RuntimeErrorPayload }>((settled) => {
    resolve = settled;
  });
  const invocation: Invocation = {
    settled: false,
    crash: (error) => settle({ error }),
  };
  function settle(outcome: { result: unknown } | { error: RuntimeErrorPayload }) {
    if (invocation.settled) return;
    invocation.settled = true;
    clearTimeout(timer);
    resolve(outcome);
  }
  const timer = setTimeout(() => {
    settle({
      error: {
        errorType: 'Sandbox.Timedout',
        errorMessage: `RequestId: ${requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
      },
    });
  }, timeoutMs);
  watchCrashes(+1);
  try {
    invocations.run(invocation, () => {
      Promise.resolve()
        .then(() => handler(payload, context))
        .then(
          (result) => settle({ result }),
          (error: unknown) => settle({ error: toRuntimeError(error) }),
        );
    });
    return await promise;
  } finally {
    watchCrashes(-1);
  }
}

/** The runtime's `toRapidResponse`: how a thrown value becomes an error payload. */
function toRuntimeError(error: unknown): RuntimeErrorPayload {
  try {
    if (types.isNativeError(error) || isErrorLike(error)) {
      const { name, message, stack } = error as Error;
      return { errorType: name, errorMessage: message, trace: String(stack).split('\n') };
    }
    return { errorType: typeof error, errorMessage: String((error as object).toString()), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

function isErrorLike(value: unknown): boolean {
  const candidate = value as { name?: unknown; message?: unknown; stack?: unknown } | null;
  return (
    typeof candidate?.name === 'string' &&
    candidate.name !== '' &&
    typeof candidate.message === 'string' &&
    candidate.message !== '' &&
    typeof candidate.stack === 'string'
  );
}

function functionError(payload: RuntimeErrorPayload): StatesError {
  return new StatesError(payload.errorType, JSON.stringify(payload));
}

/*
 * Crashes: the runtime reports an unhandled rejection or an uncaught exception during an
 * invocation as that invocation's error (then the sandbox exits). Node.js runs these listeners in
 * the async context the error came from, which names the invocation. Errors from no invocation
 * are left to the process's other listeners, or end the process as they would without this one.
 */
function onRejection(reason: unknown): void {
  const invocation = invocations.getStore();
  if (invocation) {
    const error = new Error(String(reason));
    error.name = 'Runtime.UnhandledPromiseRejection';
    invocation.crash(toRuntimeError(error));
    return;
  }
  if (process.listenerCount('unhandledRejection') === 1) throw reason;
}

function onException(error: Error): void {
  const invocation = invocations.getStore();
  if (invocation) {
    invocation.crash(toRuntimeError(error));
    return;
  }
  if (process.listenerCount('uncaughtException') === 1) {
    console.error(error);
    process.exit(1);
  }
}

function watchCrashes(delta: number): void {
  inFlight += delta;
  if (delta > 0 && inFlight === 1) {
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
  } else if (inFlight === 0) {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  }
}

function lambdaContext(
  functionName: string,
  arn: string,
  requestId: string,
  deadline: number,
  memory: number,
) {
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: arn,
    memoryLimitInMB: String(memory),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}
