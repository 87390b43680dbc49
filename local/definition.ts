import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App, type CfnResource } from 'aws-cdk-lib';
import { type ExportConfig, loadConfig } from '../lib/config';
import { PceExportStack } from '../lib/pce-export-stack';

/** The handler modules a Task state can be mapped back to. */
export type HandlerName = 'submit' | 'poll' | 'fetch' | 'snapshot';

/** The service integrations (other than Lambda) the definition uses, each with a local stand-in. */
export type ServiceIntegration = 'events:putEvents';

/** What a Task state runs locally. */
export type TaskTarget = HandlerName | ServiceIntegration;

export interface LocalDefinition {
  /** The Amazon States Language definition exactly as CDK renders it, with ARNs made concrete. */
  readonly definition: AslDefinition;
  /**
   * Task state name → the handler module its Lambda function runs, or the service integration
   * it calls. Covers the states inside Map iterations and Parallel branches too (state names
   * are unique across a whole definition).
   */
  readonly taskHandlers: Readonly<Record<string, TaskTarget>>;
  /**
   * The configured exports and snapshots the deployed functions get (`PCE_EXPORTS`,
   * `PCE_SNAPSHOTS`), so that `{"exportName": …}` resolves locally as it does in AWS.
   */
  readonly configured: Readonly<Record<'PCE_EXPORTS' | 'PCE_SNAPSHOTS', string>>;
}

/** `arn:aws:states:::events:putEvents` in any partition (no `.sync` or `.waitForTaskToken`). */
const SERVICE_INTEGRATIONS: readonly [RegExp, ServiceIntegration][] = [
  [/^arn:aws[a-z-]*:states:::events:putEvents$/, 'events:putEvents'],
];

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

const PSEUDO: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'us-east-1',
  'AWS::AccountId': '000000000000',
  'AWS::URLSuffix': 'amazonaws.com',
};

const REPO_ROOT = resolve(import.meta.dirname, '..');

/** The deploy configuration `cdk synth` reads by default. */
export const DEFAULT_CONFIG_PATH = join(REPO_ROOT, 'config', 'pce-export.json');

/** The feature flags in cdk.json, so the local synth renders what `cdk synth` renders. */
function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

/**
 * Synthesizes the stack as `cdk synth` would — the deploy configuration and the feature flags
 * of cdk.json, without bundling the Lambdas — and returns the state machine definition it
 * renders, with each Lambda ARN mapped back to its handler.
 */
export function synthesizeLocalDefinition(
  config: ExportConfig = loadConfig(DEFAULT_CONFIG_PATH),
): LocalDefinition {
  const outdir = mkdtempSync(join(tmpdir(), 'pce-export-synth-'));
  try {
    // Template validation is what `cdk synth` is for; here only the rendered definition matters.
    const app = new App({
      outdir,
      builtinCloudFormationValidation: false,
      context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] },
    });
    const stack = new PceExportStack(app, 'PceExport', { config });
    const { workflow } = stack;
    const logicalId = (resource: { node: { defaultChild?: unknown } }) =>
      stack.getLogicalId(resource.node.defaultChild as CfnResource);
    const functionIds: Record<string, HandlerName> = {
      [logicalId(workflow.submitFunction)]: 'submit',
      [logicalId(workflow.pollFunction)]: 'poll',
      [logicalId(workflow.fetchFunction)]: 'fetch',
      [logicalId(workflow.snapshotFunction)]: 'snapshot',
    };
    const stateMachineId = logicalId(workflow.stateMachine);

    const template = app.synth().getStackByName(stack.stackName).template as {
      Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
    };
    const resource = template.Resources[stateMachineId];
    if (!resource) throw new Error(`state machine ${stateMachineId} not found in the synthesized template`);
    const rendered = resolveIntrinsics(resource.Properties?.DefinitionString);
    if (typeof rendered !== 'string')
      throw new Error('the state machine definition did not render to a string');
    const definition = JSON.parse(rendered) as AslDefinition;

    const taskHandlers: Record<string, TaskTarget> = {};
    for (const [name, state] of allStates(definition)) {
      if (state.Type !== 'Task' || state.Resource === undefined) continue;
      const { Resource } = state;
      const service = SERVICE_INTEGRATIONS.find(([pattern]) => pattern.test(Resource))?.[1];
      const functionId = /:function:([^:]+)$/.exec(Resource)?.[1];
      const target = service ?? (functionId === undefined ? undefined : functionIds[functionId]);
      if (!target) throw new Error(`Task state ${name} calls ${Resource}, which has no local handler`);
      if (taskHandlers[name] !== undefined) throw new Error(`state name ${name} is used twice`);
      taskHandlers[name] = target;
    }
    const literal = (fn: { node: { defaultChild?: unknown } }, name: string) => {
      const environment = template.Resources[logicalId(fn)]?.Properties?.Environment as
        | { Variables?: Record<string, unknown> }
        | undefined;
      const value = environment?.Variables?.[name];
      return typeof value === 'string' ? value : '{}';
    };
    return {
      definition,
      taskHandlers,
      configured: {
        PCE_EXPORTS: literal(workflow.submitFunction, 'PCE_EXPORTS'),
        PCE_SNAPSHOTS: literal(workflow.snapshotFunction, 'PCE_SNAPSHOTS'),
      },
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Every state of a definition with its name, including those of Map iterations and Parallel branches. */
function* allStates(definition: AslDefinition): Generator<[string, AslState]> {
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

/** Renders the CloudFormation intrinsics a state machine definition uses into plain values. */
export function resolveIntrinsics(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(resolveIntrinsics);
  const entries = Object.entries(value);
  const [first] = entries;
  if (entries.length === 1 && first) {
    const [key, arg] = first;
    if (key === 'Fn::Join' && Array.isArray(arg)) {
      const [separator, parts] = arg as [string, unknown[]];
      return parts.map(resolveIntrinsics).join(separator);
    }
    if (key === 'Fn::GetAtt' && Array.isArray(arg)) {
      const [id, attribute] = arg as [string, string];
      return attribute === 'Arn'
        ? `arn:aws:lambda:us-east-1:000000000000:function:${id}`
        : `${id}.${attribute}`;
    }
    if (key === 'Ref' && typeof arg === 'string') return PSEUDO[arg] ?? `local-${arg}`;
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveIntrinsics(v)]));
}
