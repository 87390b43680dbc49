import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { App, type CfnResource } from 'aws-cdk-lib';
import { CfnStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { IConstruct } from 'constructs';
import { type ExportConfig, loadConfig } from '../lib/config';
import { HANDLER_MODULE_METADATA } from '../lib/lambda-defaults';
import { PceExportStack } from '../lib/pce-export-stack';
import { cacheDirectory, cached, definitionCacheKey } from './definition-cache';
import { validateDefinition } from './prepare';
import {
  type AslDefinition,
  allStates,
  DEFAULT_CONFIG_PATH,
  functionArn,
  functionIdOf,
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  type LocalDefinition,
  type LocalFunction,
  type LocalStateMachine,
  REPO_ROOT,
  serviceIntegrationOf,
  stateMachineArn,
  type TaskTarget,
  workflowName,
} from './stack';
import { markAllValidated } from './validated';

export type { AslDefinition, AslState, LocalDefinition } from './stack';
export { DEFAULT_CONFIG_PATH } from './stack';

const PSEUDO: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws',
  'AWS::Region': LOCAL_REGION,
  'AWS::AccountId': LOCAL_ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
};

/** The feature flags in cdk.json, so the local synth renders what `cdk synth` renders. */
function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

type Template = {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
};

interface SynthesizeOptions {
  /**
   * Reuse the definition synthesized earlier from the same configuration and sources
   * (`definition-cache.ts`), or synthesize afresh.
   * @default true, unless PCE_EXPORT_DEFINITION_CACHE=off
   */
  readonly cache?: boolean;
}

/**
 * Synthesizes the stack as `cdk synth` would — the deploy configuration and the feature flags
 * of cdk.json, without bundling the Lambdas — and returns the state machine definitions it
 * renders, with each Lambda ARN mapped back to its handler module. The result is cached, keyed
 * by everything that shapes it, so a run after the first skips the synth.
 */
export function synthesizeLocalDefinition(
  config?: ExportConfig,
  options: SynthesizeOptions = {},
): LocalDefinition {
  if (!(options.cache ?? process.env.PCE_EXPORT_DEFINITION_CACHE !== 'off')) {
    return synthesize(config ?? loadConfig(DEFAULT_CONFIG_PATH));
  }
  const source = config ?? { file: readFileSync(DEFAULT_CONFIG_PATH, 'utf8') };
  const key = definitionCacheKey(source, REPO_ROOT, [import.meta.filename]);
  // Validated before it is written, so that a run from the cache can skip the validation.
  return markAllValidated(
    cached(cacheDirectory(REPO_ROOT), key, () => {
      const local = synthesize(config ?? loadConfig(DEFAULT_CONFIG_PATH));
      validateDefinition(local.definition);
      for (const machine of Object.values(local.stateMachines)) validateDefinition(machine.definition);
      return local;
    }),
  );
}

function synthesize(config: ExportConfig): LocalDefinition {
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
    return fromTemplate(stack, template);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function fromTemplate(stack: PceExportStack, template: Template): LocalDefinition {
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

  const workflowIds = new Map(
    Object.entries(stack.workflows).map(([pce, workflow]) => [
      logicalId(workflow.stateMachine.node.defaultChild as CfnResource),
      pce,
    ]),
  );
  const names: Record<string, string> = {};
  for (const [id, path] of Object.entries(machinePaths)) {
    const pce = workflowIds.get(id);
    names[id] =
      pce !== undefined
        ? workflowName(pce)
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
  const [firstPce, first] = Object.entries(stack.workflows)[0] ?? [];
  const main = first ? stateMachines[workflowName(firstPce ?? '')] : undefined;
  if (!main) throw new Error('the export workflow was not found in the synthesized template');
  for (const machine of Object.values(stateMachines)) checkTaskTargets(machine, functions);

  const workflows = Object.fromEntries(
    Object.entries(stack.workflows).map(([pce, workflow]) => {
      const submit = functions[logicalId(workflow.submitFunction.node.defaultChild as CfnResource)];
      const identity = Object.fromEntries(
        ['PCE_NAME', 'PCE_NAMES'].flatMap((name) => {
          const value = submit?.environment[name];
          return value === undefined ? [] : [[name, value]];
        }),
      );
      return [
        pce,
        {
          stateMachine: workflowName(pce),
          ...(workflow.exportsConfig ? { configuration: workflow.exportsConfig.body } : {}),
          identity,
        },
      ];
    }),
  );
  return {
    definition: main.definition,
    taskHandlers: checkTaskTargets(main, functions),
    workflows,
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

/**
 * Renders the CloudFormation intrinsics a state machine definition uses into plain values;
 * `resource` names the ARN (or other attribute) of a resource of the stack.
 */
function resolveIntrinsics(
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
