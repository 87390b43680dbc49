import { join, resolve } from 'node:path';

/*
 * The local model of the stack: the state machines and functions the engine runs, as the
 * synthesized template defines them (`definition.ts` synthesizes it). Kept free of aws-cdk-lib, so
 * that a run whose definition is cached never loads the CDK.
 */

/** The service integrations (other than invoking a function by ARN) that have a local stand-in. */
export type ServiceIntegration =
  | 'events:putEvents'
  | 'lambda:invoke'
  | 'states:startExecution'
  | 'states:startExecution.sync'
  | 'states:startExecution.sync:2';

/** What a Task state runs locally: a handler module by name, or a service integration. */
export type TaskTarget = string;

/** A Lambda function of the stack, as the template configures it. */
export interface LocalFunction {
  /** Logical id in the template; the local ARN ends with it. */
  readonly id: string;
  readonly arn: string;
  /** Handler module name, e.g. `poll`. */
  readonly handler: string;
  /** Handler module, relative to the repository root. */
  readonly module: string;
  readonly timeoutSeconds: number;
  readonly memorySize: number;
  /** The environment variables whose values are literals in the template. */
  readonly environment: Readonly<Record<string, string>>;
}

/** A state machine of the stack, runnable locally. */
export interface LocalStateMachine {
  /** Local name, which its ARN ends with (`PceExportWorkflow` for the export workflow). */
  readonly name: string;
  readonly arn: string;
  /** Construct path, e.g. `PceExport/ExampleParent/StateMachine`. */
  readonly path: string;
  readonly definition: AslDefinition;
}

export interface LocalDefinition {
  /** The export workflow's definition exactly as CDK renders it, with ARNs made concrete. */
  readonly definition: AslDefinition;
  /**
   * Task state name → the handler module its Lambda function runs, or the service integration
   * it calls, for the export workflow (Map iterations and Parallel branches included; state
   * names are unique across a whole definition).
   */
  readonly taskHandlers: Readonly<Record<string, TaskTarget>>;
  /**
   * Each PCE's export workflow, by PCE name (`''` for the one PCE of a configuration without
   * names): its state machine, and what the stack gives its functions besides the resources.
   */
  readonly workflows: Readonly<Record<string, LocalWorkflow>>;
  /** Every state machine the stack defines, by local name; the export workflow among them. */
  readonly stateMachines: Readonly<Record<string, LocalStateMachine>>;
  /** Every function the stack defines, by logical id. */
  readonly functions: Readonly<Record<string, LocalFunction>>;
}

/** One PCE's export workflow in the local model of the stack. */
export interface LocalWorkflow {
  /** Local name of its state machine. */
  readonly stateMachine: string;
  /**
   * The content of its configuration object (the configured exports and snapshots), which the
   * stack writes to S3 and the engine writes to the run's bucket, so that `{"exportName": …}`
   * resolves locally as it does in AWS.
   */
  readonly configuration?: string;
  /** `PCE_NAME` and `PCE_NAMES`, when the workflow's PCE has a name. */
  readonly identity: Readonly<Record<string, string>>;
}

export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  [key: string]: unknown;
}

export interface AslState {
  Type: string;
  Resource?: string;
  [key: string]: unknown;
}

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_STATE_MACHINE_NAME = 'PceExportWorkflow';

/** The local name of a PCE's export workflow: `PceExportWorkflow`, or `PceExportWorkflow-prod` with several PCEs. */
export function workflowName(pce: string): string {
  return pce === '' ? LOCAL_STATE_MACHINE_NAME : `${LOCAL_STATE_MACHINE_NAME}-${pce}`;
}

export function stateMachineArn(name: string): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${name}`;
}

export function functionArn(id: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${id}`;
}

export const REPO_ROOT = resolve(import.meta.dirname, '..');

/** The deploy configuration `cdk synth` reads by default. */
export const DEFAULT_CONFIG_PATH = join(REPO_ROOT, 'config', 'pce-export.json');

const SERVICE_RESOURCE =
  /^arn:aws[a-z-]*:states:::(events:putEvents|lambda:invoke|states:startExecution(?:\.sync(?::2)?)?)$/;

/** The service integration a Task's Resource names, if it is one with a local stand-in. */
export function serviceIntegrationOf(resource: string): ServiceIntegration | undefined {
  return SERVICE_RESOURCE.exec(resource)?.[1] as ServiceIntegration | undefined;
}

/** The function's logical id in a local Lambda ARN. */
export function functionIdOf(resource: string): string | undefined {
  return /^arn:aws[a-z-]*:lambda:[^:]*:[^:]*:function:([^:]+)$/.exec(resource)?.[1];
}

/** Every state of a definition with its name, including those of Map iterations and Parallel branches. */
export function* allStates(definition: AslDefinition): Generator<[string, AslState]> {
  for (const [name, state] of Object.entries(definition.States)) {
    yield [name, state];
    const nested = [
      state.ItemProcessor,
      state.Iterator,
      ...(Array.isArray(state.Branches) ? state.Branches : []),
    ];
    for (const inner of nested) {
      if (inner !== null && typeof inner === 'object' && 'States' in inner)
        yield* allStates(inner as AslDefinition);
    }
  }
}
