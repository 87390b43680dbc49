import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App, type CfnResource } from 'aws-cdk-lib';
import { type ExportConfig, loadConfig } from '../lib/config';
import { PceExportStack } from '../lib/pce-export-stack';

/** The handler modules a Task state can be mapped back to. */
export type HandlerName = 'submit' | 'poll' | 'fetch';

export interface LocalDefinition {
  /** The Amazon States Language definition exactly as CDK renders it, with ARNs made concrete. */
  readonly definition: AslDefinition;
  /** Task state name → the handler module its Lambda function runs. */
  readonly taskHandlers: Readonly<Record<string, HandlerName>>;
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

    const taskHandlers: Record<string, HandlerName> = {};
    for (const [name, state] of Object.entries(definition.States)) {
      if (state.Type !== 'Task' || state.Resource === undefined) continue;
      const functionId = /:function:([^:]+)$/.exec(state.Resource)?.[1];
      const handler = functionId === undefined ? undefined : functionIds[functionId];
      if (!handler) throw new Error(`Task state ${name} calls ${state.Resource}, which has no local handler`);
      taskHandlers[name] = handler;
    }
    return { definition, taskHandlers };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
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
