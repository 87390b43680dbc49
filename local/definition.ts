import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { App, type CfnResource, type Stack } from 'aws-cdk-lib';
import { CfnStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { IConstruct } from 'constructs';
import { type ExportConfig, loadConfig } from '../lib/config';
import { HANDLER_MODULE_METADATA } from '../lib/lambda-defaults';
import { PceExportStack } from '../lib/pce-export-stack';

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
   * The configured exports and snapshots the deployed functions get (`PCE_EXPORTS`,
   * `PCE_SNAPSHOTS`), so that `{"exportName": …}` resolves locally as it does in AWS.
   */
  readonly configured: Readonly<Record<'PCE_EXPORTS' | 'PCE_SNAPSHOTS', string>>;
  /** Every state machine the stack defines, by local name; the export workflow among them. */
  readonly stateMachines: Readonly<Record<string, LocalStateMachine>>;
  /** Every function the stack defines, by logical id. */
  readonly functions: Readonly<Record<string, LocalFunction>>;
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

export function stateMachineArn(name: string): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${name}`;
}

export function functionArn(id: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${id}`;
}

const PSEUDO: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws',
  'AWS::Region': LOCAL_REGION,
  'AWS::AccountId': LOCAL_ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
};

export const REPO_ROOT = resolve(import.meta.dirname, '..');

/** The deploy configuration `cdk synth` reads by default. */
export const DEFAULT_CONFIG_PATH = join(REPO_ROOT, 'config', 'pce-export.json');

/** The feature flags in cdk.json, so the local synth renders what `cdk synth` renders. */
function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

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

type Template = {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
};

/**
 * Synthesizes the stack as `cdk synth` would — the deploy configuration and the feature flags
 * of cdk.json, without bundling the Lambdas — and returns the state machine definitions it
 * renders, with each Lambda ARN mapped back to its handler module.
 */
export function synthesizeLocalDefinition(
  config: ExportConfig = loadConfig(DEFAULT_CONFIG_PATH),
): LocalDefinition {
  const outdir = mkdtempSync(join(tmpdir(), 'pce-export-synth-'));
  try {
    // Template validation is what `cdk synth` is for; here only the rendered definitions matter.
    const app = new App({
      outdir,
      builtinCloudFormationValidation: false,
      context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] },
    });
    const stack = new PceExportStack(app, 'PceExport', { config });
    const template = app.synth().getStackByName(stack.stackName).template as Template;
    return fromTemplate(stack, template, stack.workflow.stateMachine.node.defaultChild as CfnResource);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function fromTemplate(stack: Stack, template: Template, workflow: CfnResource): LocalDefinition {
  const logicalId = (construct: IConstruct) => stack.getLogicalId(construct as CfnResource);
  const functions: Record<string, LocalFunction> = {};
  const machinePaths: Record<string, string> = {};
  for (const construct of stack.node.findAll()) {
    const module = construct.node.metadata.find((entry) => entry.type === HANDLER_MODULE_METADATA)?.data;
    const cfn = construct.node.defaultChild;
    if (typeof module === 'string' && cfn) {
      const id = logicalId(cfn);
      const properties = template.Resources[id]?.Properties ?? {};
      const variables = (properties.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables;
      functions[id] = {
        id,
        arn: functionArn(id),
        handler: basename(module).replace(/\.[cm]?[jt]s$/, ''),
        module,
        timeoutSeconds: typeof properties.Timeout === 'number' ? properties.Timeout : 3,
        memorySize: typeof properties.MemorySize === 'number' ? properties.MemorySize : 128,
        environment: Object.fromEntries(
          Object.entries(variables ?? {}).filter(
            (entry): entry is [string, string] => typeof entry[1] === 'string',
          ),
        ),
      };
    }
    if (construct instanceof CfnStateMachine)
      machinePaths[logicalId(construct)] = construct.node.scope?.node.path ?? '';
  }

  const workflowId = logicalId(workflow);
  const names: Record<string, string> = {};
  for (const [id, path] of Object.entries(machinePaths)) {
    names[id] =
      id === workflowId
        ? LOCAL_STATE_MACHINE_NAME
        : path
            .split('/')
            .slice(1)
            .filter((part) => part !== 'StateMachine')
            .join('-')
            .replace(/[^A-Za-z0-9_-]/g, '-');
  }
  const intrinsics = (value: unknown) =>
    resolveIntrinsics(value, (id, attribute) => {
      if (functions[id] && attribute === 'Arn') return functions[id].arn;
      const name = names[id];
      if (name !== undefined) return attribute === 'Name' ? name : stateMachineArn(name);
      return undefined;
    });

  const stateMachines: Record<string, LocalStateMachine> = {};
  for (const [id, name] of Object.entries(names)) {
    const rendered = intrinsics(template.Resources[id]?.Properties?.DefinitionString);
    if (typeof rendered !== 'string')
      throw new Error(`the definition of state machine ${id} did not render to a string`);
    stateMachines[name] = {
      name,
      arn: stateMachineArn(name),
      path: machinePaths[id] ?? '',
      definition: JSON.parse(rendered) as AslDefinition,
    };
  }
  const main = stateMachines[LOCAL_STATE_MACHINE_NAME];
  if (!main) throw new Error(`state machine ${workflowId} not found in the synthesized template`);
  for (const machine of Object.values(stateMachines)) checkTaskTargets(machine, functions);

  const literal = (name: string) =>
    Object.values(functions).find((fn) => fn.environment[name] !== undefined)?.environment[name] ?? '{}';
  return {
    definition: main.definition,
    taskHandlers: checkTaskTargets(main, functions),
    configured: { PCE_EXPORTS: literal('PCE_EXPORTS'), PCE_SNAPSHOTS: literal('PCE_SNAPSHOTS') },
    stateMachines,
    functions,
  };
}

/** Task state name → handler or integration; fails on a Task with no local stand-in. */
function checkTaskTargets(
  machine: LocalStateMachine,
  functions: Readonly<Record<string, LocalFunction>>,
): Record<string, TaskTarget> {
  const targets: Record<string, TaskTarget> = {};
  for (const [name, state] of allStates(machine.definition)) {
    if (state.Type !== 'Task' || state.Resource === undefined) continue;
    const functionId = functionIdOf(state.Resource);
    const target =
      serviceIntegrationOf(state.Resource) ??
      (functionId === undefined ? undefined : functions[functionId]?.handler);
    if (!target) throw new Error(`Task state ${name} calls ${state.Resource}, which has no local handler`);
    if (targets[name] !== undefined) throw new Error(`state name ${name} is used twice in ${machine.name}`);
    targets[name] = target;
  }
  return targets;
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

/**
 * Renders the CloudFormation intrinsics a state machine definition uses into plain values;
 * `resource` names the ARN (or other attribute) of a resource of the stack.
 */
export function resolveIntrinsics(
  value: unknown,
  resource: (id: string, attribute: string) => string | undefined = () => undefined,
): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => resolveIntrinsics(item, resource));
  const entries = Object.entries(value);
  const [first] = entries;
  if (entries.length === 1 && first) {
    const [key, arg] = first;
    if (key === 'Fn::Join' && Array.isArray(arg)) {
      const [separator, parts] = arg as [string, unknown[]];
      return parts.map((part) => resolveIntrinsics(part, resource)).join(separator);
    }
    if (key === 'Fn::GetAtt' && Array.isArray(arg)) {
      const [id, attribute] = arg as [string, string];
      return resource(id, attribute) ?? (attribute === 'Arn' ? functionArn(id) : `${id}.${attribute}`);
    }
    if (key === 'Ref' && typeof arg === 'string')
      return PSEUDO[arg] ?? resource(arg, 'Ref') ?? `local-${arg}`;
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveIntrinsics(v, resource)]));
}
