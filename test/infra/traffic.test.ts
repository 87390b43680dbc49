import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import type { ExportInput } from '../../lambdas/contracts/input';
import { exportInputOf, loadConfig, parseConfig } from '../../lib/config';
import { ExportWorkflow } from '../../lib/export-workflow';
import { REPO_ROOT } from '../../lib/lambda-defaults';
import { CDK_JSON_CONTEXT, configObject, logicalId, synthStack } from './support';

const TRAFFIC = {
  name: 'blocked-traffic',
  kind: 'traffic',
  traffic: {
    since: 'last 7d',
    policyDecisions: ['blocked', 'potentially_blocked'],
    sources: {
      include: ['/orgs/1/labels/7', ['/orgs/1/labels/3', '/orgs/1/labels/9']],
      exclude: ['10.0.0.0/8'],
    },
    maxResults: 50_000,
  },
  format: 'raw',
  gzip: false,
  maxWaitSeconds: 7200,
  schedule: { expression: 'cron(15 0 * * ? *)', timeZone: 'UTC' },
};

function withTraffic(): ReturnType<typeof configObject> {
  const config = configObject();
  config.exports.push(structuredClone(TRAFFIC));
  return config;
}

describe('a configured traffic export', () => {
  it('passes its kind and query, and no path, as the execution input', () => {
    const definition = parseConfig(withTraffic(), 'test').exports.find((e) => e.name === 'blocked-traffic');
    if (!definition) throw new Error('the traffic export was not parsed');

    expect(exportInputOf(definition)).toEqual({
      exportName: 'blocked-traffic',
      kind: 'traffic',
      traffic: TRAFFIC.traffic,
      format: 'raw',
      gzip: false,
      maxWaitSeconds: 7200,
    });
  });

  it('is in the example configuration as a daily export of the last 24 hours, every decision, 100,000 flows', () => {
    const config = loadConfig(join(REPO_ROOT, 'config', 'pce-export.json'));
    const traffic = config.exports.find((entry) => entry.kind === 'traffic');

    expect(traffic).toMatchObject({
      traffic: {
        since: '24h',
        policyDecisions: ['allowed', 'potentially_blocked', 'blocked', 'unknown'],
        maxResults: 100_000,
      },
      schedule: { enabled: true },
    });
    expect(traffic?.schedule?.expression).toMatch(/^cron\(\d+ \d+ \* \* \? \*\)$/);
  });
});

describe('PceExportStack with a scheduled traffic export', () => {
  const { template, stack } = synthStack(withTraffic());
  const schedule = Object.values(template.findResources('AWS::Scheduler::Schedule'))
    .map((resource) => resource.Properties)
    .find((properties) => JSON.parse(properties.Target.Input).exportName === 'blocked-traffic');

  it('schedules it with its input: kind, query, format, gzip and maxWaitSeconds', () => {
    expect(schedule).toMatchObject({
      ScheduleExpression: 'cron(15 0 * * ? *)',
      ScheduleExpressionTimezone: 'UTC',
      State: 'ENABLED',
      Target: { Arn: { Ref: logicalId(stack.workflow.stateMachine) } },
    });
    expect(schedule?.Description).toBe('pce-export blocked-traffic (traffic flows)');
    expect(JSON.parse(schedule?.Target.Input)).toEqual({
      exportName: 'blocked-traffic',
      kind: 'traffic',
      traffic: TRAFFIC.traffic,
      format: 'raw',
      gzip: false,
      maxWaitSeconds: 7200,
    });
  });

  it('gives Submit the traffic export in its configuration object, so {"exportName": …} alone runs it', () => {
    const submit = template.toJSON().Resources[logicalId(stack.workflow.submitFunction)];
    const configuration = stack.workflow.exportsConfig;
    const { exports } = JSON.parse(configuration?.body ?? '{}');

    expect(submit.Properties.Environment.Variables.EXPORTS_CONFIG_KEY).toBe(configuration?.key);
    expect(exports['blocked-traffic']).toEqual(JSON.parse(schedule?.Target.Input));
  });
});

describe('ExportWorkflow exports validation', () => {
  function build(exports: Record<string, ExportInput>) {
    const app = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Test');
    return () =>
      new ExportWorkflow(stack, 'Workflow', {
        pceUrl: 'https://pce.example.com:8443',
        orgId: 1,
        secret: new Secret(stack, 'Secret'),
        bucket: new Bucket(stack, 'Bucket'),
        exports,
      });
  }

  it('accepts a traffic export without a path', () => {
    expect(() => build({ traffic: { kind: 'traffic', traffic: { since: '24h' } } })()).not.toThrow();
  });

  it('names the field when a traffic export also gives a path', () => {
    expect(build({ traffic: { kind: 'traffic', path: '/workloads' } })).toThrow(
      'exports["traffic"].path is not used by a traffic export',
    );
  });

  it('still requires a path of a collection export', () => {
    expect(build({ labels: { format: 'raw' } })).toThrow('exports["labels"].path is required');
  });

  it('synthesizes the traffic export into the template unchanged', () => {
    const app = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Synth');
    const input: ExportInput = { kind: 'traffic', traffic: { since: '24h', maxResults: 1000 } };
    const workflow = new ExportWorkflow(stack, 'Workflow', {
      pceUrl: 'https://pce.example.com:8443',
      orgId: 1,
      secret: new Secret(stack, 'Secret'),
      bucket: new Bucket(stack, 'Bucket'),
      exports: { traffic: input },
    });
    const submit = Template.fromStack(stack).toJSON().Resources[logicalId(workflow.submitFunction)];

    expect(submit.Properties.Environment.Variables.EXPORTS_CONFIG_SHA256).toBe(
      workflow.exportsConfig?.sha256,
    );
    expect(JSON.parse(workflow.exportsConfig?.body ?? '{}').exports).toEqual({ traffic: input });
  });
});
