import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Choice, Condition, Fail, type IChainable, JsonPath, Pass } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { ERROR_NAMES, ExportInternalError } from '../lambdas/export/errors';
import { DETAIL_TYPES, failureDetail, notifyTask } from './events';

/*
 * Where every failure of the workflow ends: whatever was caught ({Error, Cause} as a Catch
 * leaves it) becomes {error, cause, original} and then a Fail state with that error and cause,
 * after the "Export Failed" event; a snapshot member's path ends its child execution with that
 * failure as the result instead, and its parent fails and announces the snapshot's failure.
 *
 * The error is one of ERROR_NAMES: a named error keeps its name; anything else (a function
 * timeout, a crash, a Lambda service error, a task timeout, an AWS integration's error) becomes
 * ExportInternalError, its cause naming the original error and carrying the original cause.
 *
 * A Cause comes in many shapes, and a JSONPath definition cannot try to parse one: a Lambda
 * function error carries the runtime's JSON ({"errorType", "errorMessage", "trace"}, or only
 * {"errorMessage"} for a timeout), an integration's error a sentence or the service's JSON
 * response, a task timeout an empty cause or none at all. States.StringToJson on anything that
 * is not JSON, or a path to a field that is absent, would end the execution in States.Runtime,
 * past every Catch. So the cause is only parsed when it has one of the shapes the Lambda
 * runtime writes, from its first character to its last (a cause cut short, or any other text,
 * does not match), and only fields that a Choice has seen present are read. Choice rules test
 * presence first: And stops at the first rule that does not match.
 */

/**
 * The causes of a Lambda function error, as StringMatches patterns: the Node.js runtime's
 * `{"errorType", "errorMessage", "trace"}`, and a timeout's `{"errorMessage"}` (AWS) or
 * `{"errorType", "errorMessage"}` (the runtime interface emulator).
 */
const FUNCTION_ERROR_CAUSES = [
  '{"errorType":"*","errorMessage":"*","trace":[*]}',
  '{"errorType":"*","errorMessage":"*"}',
  '{"errorMessage":"*"}',
];

/** The internal error's name, which the Fail of an unnamed error carries. */
const INTERNAL = ExportInternalError.errorName;

/** Error is one of the names of PRODUCT.md 3.3. */
function named(path: string): Condition {
  return Condition.or(...ERROR_NAMES.map((name) => Condition.stringEquals(path, name)));
}

/** The field is present and a string: the rules a comparison of it must follow. */
function text(path: string): Condition[] {
  return [Condition.isPresent(path), Condition.isString(path)];
}

export interface FailurePathProps {
  /** Every state name of the path starts with it (names are unique across a definition). */
  readonly prefix: string;
  /**
   * How the path ends:
   * - `notify`: the "Export Failed" event on `eventBus`, then the Fail;
   * - `fail`: the Fail without an event;
   * - `childResult`: a Pass that ends a child execution (a Distributed Map item) with
   *   `{failed: true, failure: {error, cause, original}}` as its output: the child succeeds, and
   *   the parent reads the failure from the Map's result. (A child that fails would fail the Map
   *   with States.ExceedToleratedFailureThreshold, whatever its own error.)
   */
  readonly end:
    | { readonly kind: 'notify'; readonly eventBus: IEventBus }
    | { readonly kind: 'fail' }
    | { readonly kind: 'childResult' };
}

/** The states a failure goes through; `entry` is where a Catch that replaces the state goes. */
export class FailurePath {
  /** Takes `{Error, Cause?}`, as a Catch without ResultPath leaves the state. */
  readonly entry: Choice;
  /** Takes `{error, cause, original}`, for a failure the definition itself names (a job that failed). */
  readonly described: IChainable;

  constructor(scope: Construct, props: FailurePathProps) {
    const p = props.prefix;
    this.described = this.ending(scope, props);
    const cause = JsonPath.stringAt('$.Cause');
    const error = JsonPath.stringAt('$.Error');
    const describe = (name: string, parameters: Record<string, unknown>) =>
      new Pass(scope, `${p}${name}`, { parameters }).next(this.described);

    const namedWithCause = describe('DescribeNamedFailure', {
      error,
      cause,
      original: { error, cause },
    });
    const internalWithCause = describe('DescribeInternalFailure', {
      error: INTERNAL,
      cause: JsonPath.format('{}: {}', error, cause),
      original: { error, cause },
    });
    const noCause = JsonPath.format('{} (no cause given)', error);
    const namedWithoutCause = describe('DescribeNamedFailureWithoutCause', {
      error,
      cause: noCause,
      original: { error },
    });
    const internalWithoutCause = describe('DescribeInternalFailureWithoutCause', {
      error: INTERNAL,
      cause: noCause,
      original: { error },
    });

    // A Lambda error's cause is the runtime's JSON: the message is the human sentence.
    const message = JsonPath.stringAt('$.detail.errorMessage');
    const readLambdaError = new Pass(scope, `${p}ReadFailureCause`, {
      parameters: { Error: error, Cause: cause, detail: JsonPath.stringToJson(cause) },
    }).next(
      new Choice(scope, `${p}ClassifyFunctionError`)
        .when(
          Condition.and(...text('$.detail.errorMessage'), named('$.Error')),
          describe('DescribeFailure', { error, cause: message, original: { error, cause: message } }),
        )
        .when(
          Condition.and(...text('$.detail.errorMessage')),
          describe('DescribeInternalError', {
            error: INTERNAL,
            cause: JsonPath.format('{}: {}', error, message),
            original: { error, cause: message },
          }),
        )
        .when(named('$.Error'), namedWithCause)
        .otherwise(internalWithCause),
    );

    const hasCause = [...text('$.Cause'), Condition.not(Condition.stringEquals('$.Cause', ''))];
    this.entry = new Choice(scope, `${p}ClassifyFailure`)
      .when(
        Condition.and(
          ...text('$.Cause'),
          Condition.or(...FUNCTION_ERROR_CAUSES.map((shape) => Condition.stringMatches('$.Cause', shape))),
        ),
        readLambdaError,
      )
      .when(Condition.and(...hasCause, named('$.Error')), namedWithCause)
      .when(Condition.and(...hasCause), internalWithCause)
      .when(named('$.Error'), namedWithoutCause)
      .otherwise(internalWithoutCause);
  }

  private ending(scope: Construct, props: FailurePathProps): IChainable {
    const p = props.prefix;
    const fail = () => new Fail(scope, `${p}ExportFailed`, { errorPath: '$.error', causePath: '$.cause' });
    switch (props.end.kind) {
      case 'notify':
        return notifyTask(scope, `${p}NotifyExportFailed`, {
          eventBus: props.end.eventBus,
          detailType: DETAIL_TYPES.exportFailed,
          detail: failureDetail(),
          next: fail(),
        });
      case 'fail':
        return fail();
      case 'childResult':
        return new Pass(scope, `${p}ExportFailed`, {
          parameters: {
            failed: true,
            failure: {
              error: JsonPath.stringAt('$.error'),
              cause: JsonPath.stringAt('$.cause'),
              original: JsonPath.objectAt('$.original'),
            },
          },
        });
    }
  }
}
