import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { parseConfig } from '../../lib/config';
import { REPO_ROOT } from '../../lib/lambda-defaults';
import { PceExportStack } from '../../lib/pce-export-stack';

/** The feature flags in cdk.json, so tests synthesize what `cdk synth` does. */
export const CDK_JSON_CONTEXT = (
  JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }
).context;

/** An app with the project's feature flags. */
export function projectApp(context: Record<string, unknown> = {}): App {
  return new App({ context: { ...CDK_JSON_CONTEXT, ...context } });
}

/** An app that skips asset bundling (NodejsFunction then leaves esbuild alone). */
export function unbundledApp(): App {
  return projectApp({ 'aws:cdk:bundling-stacks': [] });
}

/** A valid configuration object; tests change what they are about. */
export function configObject(): Record<string, unknown> & {
  pce: Record<string, unknown>;
  secret: Record<string, unknown>;
  bucket: Record<string, unknown>;
  exports: Record<string, unknown>[];
} {
  return {
    pce: { url: 'https://pce.example.com:8443', orgId: 1 },
    secret: {},
    bucket: { prefix: 'pce/' },
    exports: [
      {
        name: 'workloads',
        kind: 'collection',
        path: '/workloads',
        query: { managed: 'true' },
        format: 'ndjson',
        gzip: true,
        maxWaitSeconds: 3600,
        schedule: { expression: 'cron(0 5 * * ? *)', timeZone: 'Europe/Zurich' },
      },
      { name: 'labels', kind: 'collection', path: '/labels', schedule: { expression: 'rate(6 hours)' } },
      { name: 'rule-sets', kind: 'collection', path: '/sec_policy/active/rule_sets', format: 'raw' },
    ],
    alarmEmail: 'ops@example.com',
  };
}

export function synthStack(config: unknown = configObject(), app: App = unbundledApp()) {
  const stack = new PceExportStack(app, 'PceExport', { config: parseConfig(config, 'test config') });
  return { app, stack, template: Template.fromStack(stack) };
}

/** Logical id of a construct's CloudFormation resource (or of the resource itself). */
export function logicalId(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return Stack.of(construct).getLogicalId(element);
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** Every statement of the IAM policies attached to the role with this logical id. */
export function statementsOfRole(template: Template, roleId: string): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) =>
      (policy.Properties.Roles as unknown[]).some(
        (role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId }),
      ),
    )
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/**
 * Renders a CloudFormation value to a string: `Fn::Join` parts are joined, `Fn::GetAtt` becomes
 * `<LogicalId.Attribute>`, `Ref` becomes `<LogicalId>` and `Fn::Select` of an `Fn::Split` names
 * its part.
 */
export function renderIntrinsics(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return String(value);
  const intrinsic = value as Record<string, unknown>;
  const join = intrinsic['Fn::Join'];
  if (Array.isArray(join)) {
    const [delimiter, parts] = join as [string, unknown[]];
    return parts.map(renderIntrinsics).join(delimiter);
  }
  const getAtt = intrinsic['Fn::GetAtt'];
  if (Array.isArray(getAtt)) return `<${String(getAtt[0])}.${String(getAtt[1])}>`;
  if (typeof intrinsic.Ref === 'string') return `<${intrinsic.Ref}>`;
  const select = intrinsic['Fn::Select'];
  if (Array.isArray(select)) {
    const [index, list] = select as [number, unknown];
    const split = (list as Record<string, unknown> | null)?.['Fn::Split'];
    if (Array.isArray(split)) {
      const [delimiter, source] = split as [string, unknown];
      return `<${renderIntrinsics(source)} split by ${JSON.stringify(delimiter)}, part ${index}>`;
    }
  }
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

export interface AslState {
  Type: string;
  [field: string]: unknown;
}

export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  [field: string]: unknown;
}

/** The state machine's definition, parsed, with function ARNs as `<LogicalId.Arn>`. */
export function renderDefinition(template: Template): AslDefinition {
  const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const [machine] = machines;
  if (machines.length !== 1 || !machine)
    throw new Error(`expected one state machine, found ${machines.length}`);
  return JSON.parse(renderIntrinsics(machine.Properties.DefinitionString)) as AslDefinition;
}

export function stateOf(definition: AslDefinition, name: string): AslState {
  const state = definition.States[name];
  if (!state)
    throw new Error(`state ${name} is not in the definition (${Object.keys(definition.States).join(', ')})`);
  return state;
}
