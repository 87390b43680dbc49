import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../lib/lambda-defaults';
import { actionsOf, renderIntrinsics, statementsOfRole, synthStack } from './support';

/*
 * The acceptance of several PCEs, a VPC and a proxy: config/examples/two-pces.json, shaped as
 * PRODUCT.md 3.1 shows it (an on-prem PCE with an existing secret, a SaaS PCE whose secret the
 * stack creates, both in the VPC's subnets and behind the proxy), synthesized in process and with
 * `cdk synth -c config=...` without AWS credentials; both templates pass the same checks.
 */

const EXAMPLE = join(REPO_ROOT, 'config', 'examples', 'two-pces.json');
const SUBNETS = ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'];
const PROXY_URL = 'http://proxy.corp.example:3128';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:pce-export/prod-AbCdEf';
const PLACEHOLDER = JSON.stringify({ apiKey: 'api_REPLACE_ME', apiSecret: 'REPLACE_ME' });

type Json = Record<string, unknown> & {
  pces: (Record<string, unknown> & { secret?: unknown })[];
  network: Record<string, unknown>;
};

function example(): Json {
  return JSON.parse(readFileSync(EXAMPLE, 'utf8')) as Json;
}

interface Fn {
  readonly id: string;
  readonly env: Record<string, unknown>;
  readonly vpc?: { SubnetIds: unknown; SecurityGroupIds: unknown };
  readonly roleId: string;
}

function functionsOf(template: Template): Fn[] {
  return Object.entries(template.findResources('AWS::Lambda::Function')).map(([id, resource]) => {
    const props = resource.Properties as Record<string, unknown>;
    const role = props.Role as { 'Fn::GetAtt': [string, string] };
    return {
      id,
      env: ((props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
        {}) as Record<string, unknown>,
      ...(props.VpcConfig ? { vpc: props.VpcConfig as Fn['vpc'] & object } : {}),
      roleId: role['Fn::GetAtt'][0],
    };
  });
}

/** The functions that talk to a PCE (they are given its URL), by the PCE they talk to. */
function pceFunctions(template: Template, pce: string): Fn[] {
  return functionsOf(template).filter((fn) => fn.env.PCE_URL !== undefined && fn.env.PCE_NAME === pce);
}

function securityGroupId(template: Template, pce: string): string {
  const ids = Object.entries(template.findResources('AWS::EC2::SecurityGroup'))
    .filter(([, group]) => String(group.Properties.GroupDescription).includes(`Pce-${pce}:`))
    .map(([id]) => id);
  expect(ids).toHaveLength(1);
  return ids[0] as string;
}

function egressPorts(template: Template, groupId: string): number[] {
  const group = template.findResources('AWS::EC2::SecurityGroup')[groupId];
  const rules = group?.Properties.SecurityGroupEgress as {
    IpProtocol: string;
    FromPort: number;
    ToPort: number;
  }[];
  for (const rule of rules) {
    expect(rule.IpProtocol).toBe('tcp');
    expect(rule.ToPort).toBe(rule.FromPort);
  }
  return rules.map((rule) => rule.FromPort).sort((a, b) => a - b);
}

function secretReads(template: Template, roleId: string): string[] {
  return statementsOfRole(template, roleId)
    .filter((statement) => actionsOf(statement).includes('secretsmanager:GetSecretValue'))
    .map((statement) => renderIntrinsics(statement.Resource));
}

/** The checks every template of the example passes. */
const checks: Record<string, (template: Template) => void> = {
  'runs the functions that talk to either PCE in the configured subnets, each PCE with its own security group':
    (template) => {
      for (const pce of ['prod', 'saas']) {
        const group = securityGroupId(template, pce);
        const functions = pceFunctions(template, pce);
        expect(functions.map((fn) => fn.id).sort()).toEqual(
          ['Fetch', 'Poll', 'Submit', 'TrafficFetch', 'TrafficRun', 'TrafficWindow'].map((name) =>
            expect.stringContaining(`${pce}${name}Function`),
          ),
        );
        for (const fn of functions) {
          expect(fn.vpc).toEqual({
            SubnetIds: SUBNETS,
            SecurityGroupIds: [{ 'Fn::GetAtt': [group, 'GroupId'] }],
          });
        }
      }
      // The functions that talk to no PCE stay out of the VPC.
      const others = functionsOf(template).filter((fn) => fn.env.PCE_URL === undefined);
      expect(others.length).toBeGreaterThan(0);
      for (const fn of others) expect(fn.vpc).toBeUndefined();
    },

  "lets each PCE's security group reach its PCE's port, the proxy's port and 443, and nothing else": (
    template,
  ) => {
    expect(egressPorts(template, securityGroupId(template, 'prod'))).toEqual([443, 3128, 8443]);
    expect(egressPorts(template, securityGroupId(template, 'saas'))).toEqual([443, 3128]);
    template.resourceCountIs('AWS::EC2::SecurityGroup', 2);
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  },

  "sends both PCEs' requests through the proxy, except for the noProxy hosts": (template) => {
    for (const pce of ['prod', 'saas']) {
      for (const fn of pceFunctions(template, pce)) {
        expect(fn.env).toMatchObject({ PCE_PROXY_URL: PROXY_URL, PCE_NO_PROXY: 'pce-internal.corp.example' });
      }
    }
    for (const fn of functionsOf(template).filter((each) => each.env.PCE_URL === undefined)) {
      expect(fn.env.PCE_PROXY_URL).toBeUndefined();
    }
  },

  "reads prod's existing secret by name and creates a placeholder secret for saas only": (template) => {
    const secrets = Object.entries(template.findResources('AWS::SecretsManager::Secret'));
    expect(secrets).toHaveLength(1);
    const [created, secret] = secrets[0] as [string, { Properties: { SecretString: string } }];
    expect(secret.Properties.SecretString).toBe(PLACEHOLDER);
    for (const fn of pceFunctions(template, 'prod')) {
      // A partial ARN: Secrets Manager resolves it to the secret of that name.
      expect(renderIntrinsics(fn.env.PCE_SECRET_ID)).toBe(
        'arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:pce-export/prod',
      );
      expect(secretReads(template, fn.roleId)).toEqual([
        'arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:pce-export/prod-??????',
      ]);
    }
    for (const fn of pceFunctions(template, 'saas')) {
      expect(fn.env.PCE_SECRET_ID).toEqual({ Ref: created });
      expect(secretReads(template, fn.roleId)).toEqual([`<${created}>`]);
    }
  },

  "schedules each PCE's exports and snapshots on that PCE's state machine, naming the PCE in the input": (
    template,
  ) => {
    const machines = Object.keys(template.findResources('AWS::StepFunctions::StateMachine'));
    const machineOf = (pce: string) => machines.find((id) => id.startsWith(`Workflow${pce}StateMachine`));
    const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule')).map((schedule) => {
      const { Target, ScheduleExpression, ScheduleExpressionTimezone } = schedule.Properties;
      return {
        input: JSON.parse(Target.Input) as Record<string, unknown>,
        machine: Target.Arn.Ref as string,
        at: `${ScheduleExpression} ${ScheduleExpressionTimezone}`,
        deadLetter: Target.DeadLetterConfig?.Arn,
      };
    });
    const summary = schedules
      .map(({ input, machine, at }) => ({
        pce: input.pce,
        name: input.exportName ?? (input.snapshot as { name: string }).name,
        machine,
        at,
      }))
      .sort((a, b) => `${a.pce}/${a.name}`.localeCompare(`${b.pce}/${b.name}`));
    expect(summary).toEqual([
      {
        pce: 'prod',
        name: 'policy-model',
        machine: machineOf('prod'),
        at: 'cron(0 6 * * ? *) Europe/Zurich',
      },
      { pce: 'prod', name: 'workloads', machine: machineOf('prod'), at: 'cron(0 5 * * ? *) Europe/Zurich' },
      { pce: 'saas', name: 'traffic', machine: machineOf('saas'), at: 'cron(15 0 * * ? *) UTC' },
      { pce: 'saas', name: 'workloads', machine: machineOf('saas'), at: 'cron(30 5 * * ? *) Europe/Zurich' },
    ]);
    expect(machineOf('prod')).toBeDefined();
    expect(machineOf('saas')).toBeDefined();
    // A schedule that fails to start lands in the dead-letter queue.
    for (const schedule of schedules)
      expect(schedule.deadLetter).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
  },

  "keeps each PCE's objects below a folder of its own": (template) => {
    for (const pce of ['prod', 'saas']) {
      const fetch = pceFunctions(template, pce).find((fn) => fn.env.EXPORT_PREFIX !== undefined);
      expect(fetch?.env.EXPORT_PREFIX).toBe(`pce/${pce}/`);
    }
  },
};

describe('the two-PCE example configuration (config/examples/two-pces.json)', () => {
  const { app, template } = synthStack(example());

  for (const [name, check] of Object.entries(checks)) it(name, () => check(template));

  it('imports the VPC and its subnets from the configuration, asking for no context lookup', () => {
    const artifact = app.synth().getStackByName('PceExport');
    expect(app.synth().manifest.missing ?? []).toEqual([]);
    expect(JSON.stringify(artifact.template)).not.toMatch(/AWS::EC2::(VPC|Subnet)"/);
  });

  it('uses the security groups the configuration names instead of creating one (PRODUCT.md 3.1 as written)', () => {
    const config = example();
    config.network = { ...config.network, securityGroupIds: ['sg-0cccccccccccccccc'] };
    const { template: named } = synthStack(config);

    named.resourceCountIs('AWS::EC2::SecurityGroup', 0);
    for (const pce of ['prod', 'saas']) {
      for (const fn of pceFunctions(named, pce)) {
        expect(fn.vpc).toEqual({ SubnetIds: SUBNETS, SecurityGroupIds: ['sg-0cccccccccccccccc'] });
      }
    }
  });

  it('reads an existing secret by ARN exactly, granting that ARN only', () => {
    const config = example();
    const [prod] = config.pces;
    if (prod) prod.secret = { arn: SECRET_ARN };
    const { template: byArn } = synthStack(config);

    byArn.resourceCountIs('AWS::SecretsManager::Secret', 1);
    for (const fn of pceFunctions(byArn, 'prod')) {
      expect(fn.env.PCE_SECRET_ID).toBe(SECRET_ARN);
      expect(secretReads(byArn, fn.roleId)).toEqual([SECRET_ARN]);
    }
  });

  it('gives a PCE its own network, replacing the top-level one, or none with null', () => {
    const config = example();
    const [prod, saas] = config.pces;
    if (!prod || !saas) throw new Error('the example has two PCEs');
    prod.network = {
      ...config.network,
      subnetIds: ['subnet-0dddddddddddddddd'],
      availabilityZones: ['eu-central-1c'],
    };
    saas.network = null;
    const { template: own } = synthStack(config);

    for (const fn of pceFunctions(own, 'prod'))
      expect(fn.vpc?.SubnetIds).toEqual(['subnet-0dddddddddddddddd']);
    for (const fn of pceFunctions(own, 'saas')) expect(fn.vpc).toBeUndefined();
    own.resourceCountIs('AWS::EC2::SecurityGroup', 1);
  });
});

describe('cdk synth -c config=config/examples/two-pces.json', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'pce-export-two-pces-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('synthesizes without AWS credentials, cdk-nag clean, into a template that passes the same checks', () => {
    const env: Record<string, string | undefined> = {
      ...process.env,
      CDK_DISABLE_VERSION_CHECK: '1',
      // No credentials anywhere the SDK or the CDK CLI would look.
      AWS_CONFIG_FILE: join(outdir, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(outdir, 'no-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    for (const name of [
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      'AWS_PROFILE',
      'AWS_DEFAULT_PROFILE',
      'AWS_CONTAINER_CREDENTIALS_FULL_URI',
      'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
      'AWS_WEB_IDENTITY_TOKEN_FILE',
    ])
      delete env[name];
    const result = spawnSync(
      'npx',
      [
        'cdk',
        'synth',
        '-c',
        'config=config/examples/two-pces.json',
        '--quiet',
        '-o',
        join(outdir, 'cdk.out'),
      ],
      { cwd: REPO_ROOT, encoding: 'utf8', env },
    );

    expect(result.stderr).not.toMatch(/AwsSolutions-|lookup|credentials/i);
    expect(result.status).toBe(0);
    const template = Template.fromJSON(
      JSON.parse(readFileSync(join(outdir, 'cdk.out', 'PceExport.template.json'), 'utf8')),
    );
    for (const check of Object.values(checks)) check(template);
  }, 600_000); // `cdk synth` bundles every function with esbuild: minutes on a busy machine.
});

describe('a configuration with one PCE (config/pce-export.json)', () => {
  const config = JSON.parse(readFileSync(join(REPO_ROOT, 'config', 'pce-export.json'), 'utf8')) as Record<
    string,
    unknown
  > & { pce: { url: string; orgId: number }; secret?: unknown; bucket: { prefix: string } };
  const { template } = synthStack(config);
  const ids = Object.keys(template.toJSON().Resources as Record<string, unknown>);

  it('keeps the logical ids of every resource a one-PCE stack had before several PCEs', () => {
    // The template of this configuration before `pces`, `network` and `proxy` existed.
    const before = [
      'AccessLogsBucket83982689',
      'ExportBucket4E99310E',
      'SecretA720EF05',
      'WorkflowSubmitFunction26D39E5F',
      'WorkflowSubmitFunctionRole64FF02D6',
      'WorkflowPollFunction3D818E84',
      'WorkflowFetchFunction0D51427E',
      'WorkflowSnapshotFunction1B1A93CF',
      'WorkflowStateMachine8F1B1C15',
      'AnalyticsDatabase9D7E58B6',
      'AnalyticsTableworkloadsB7EDB60A',
      'AnalyticsTablelabelsD7F8F32D',
      'AnalyticsTabletraffic69E9BFA9',
      'SchedulesRole523D57EE',
      'Schedulesworkloads32C4F9DB',
      'Schedulestraffic00A6B9E8',
      'Schedulessnapshotpolicymodel0844883D',
      'AlarmTopicD01E77F9',
      'ExecutionsFailedAlarmCA489332',
    ];
    expect(ids).toEqual(expect.arrayContaining(before));
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    template.resourceCountIs('AWS::EC2::SecurityGroup', 0);
  });

  it('names no PCE in the functions, the keys or the schedules', () => {
    for (const fn of functionsOf(template)) {
      expect(fn.env.PCE_NAME).toBeUndefined();
      expect(fn.env.PCE_PROXY_URL).toBeUndefined();
      expect(fn.vpc).toBeUndefined();
      if (fn.env.EXPORT_PREFIX !== undefined) expect(fn.env.EXPORT_PREFIX).toBe(config.bucket.prefix);
    }
    const inputs = Object.values(template.findResources('AWS::Scheduler::Schedule')).map(
      (schedule) => JSON.parse(schedule.Properties.Target.Input) as Record<string, unknown>,
    );
    expect(inputs.length).toBeGreaterThan(0);
    for (const input of inputs) expect(input.pce).toBeUndefined();
  });

  it('is the same stack when its one PCE is given as the only entry of "pces"', () => {
    const { pce, secret, ...rest } = config;
    const { template: listed } = synthStack({
      ...rest,
      pces: [{ name: 'prod', ...pce, secret: secret ?? {} }],
    });

    expect(Object.keys(listed.toJSON().Resources as Record<string, unknown>).sort()).toEqual([...ids].sort());
    for (const fn of functionsOf(listed)) {
      if (fn.env.EXPORT_PREFIX !== undefined) expect(fn.env.EXPORT_PREFIX).toBe(config.bucket.prefix);
    }
  });
});

describe('VPC endpoints ("network.endpoints")', () => {
  it('creates the S3 gateway endpoint and the Secrets Manager and X-Ray interface endpoints, open to the functions only', () => {
    const config = example();
    config.network = {
      ...config.network,
      routeTableIds: ['rtb-0aaaaaaaaaaaaaaaa', 'rtb-0bbbbbbbbbbbbbbbb'],
      endpoints: true,
    };
    const { template } = synthStack(config);
    const endpoints = Object.values(template.findResources('AWS::EC2::VPCEndpoint')).map((endpoint) => ({
      service: renderIntrinsics(endpoint.Properties.ServiceName),
      type: endpoint.Properties.VpcEndpointType ?? 'Gateway',
      groups: endpoint.Properties.SecurityGroupIds,
    }));

    expect(endpoints.map(({ service, type }) => `${type} ${service.split('.').at(-1)}`).sort()).toEqual([
      'Gateway s3',
      'Interface secretsmanager',
      'Interface xray',
    ]);
    const [endpointGroup] = Object.entries(template.findResources('AWS::EC2::SecurityGroup')).find(
      ([, group]) => String(group.Properties.GroupDescription).startsWith('pce-export VPC endpoints'),
    ) ?? [''];
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map(
      (rule) => rule.Properties,
    );
    const byJson = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));
    expect(
      ingress
        .map((rule) => [rule.GroupId, rule.FromPort, rule.ToPort, rule.SourceSecurityGroupId])
        .sort(byJson),
    ).toEqual(
      ['prod', 'saas']
        .map((pce) => [
          { 'Fn::GetAtt': [endpointGroup, 'GroupId'] },
          443,
          443,
          { 'Fn::GetAtt': [securityGroupId(template, pce), 'GroupId'] },
        ])
        .sort(byJson),
    );
  });
});
