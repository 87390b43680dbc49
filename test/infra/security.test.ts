import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import {
  actionsOf,
  configObject,
  logicalId,
  renderIntrinsics,
  type Statement,
  statementsOfRole,
  synthStack,
} from './support';

/*
 * Security review of the deployed shape, as assertions on the synthesized PceExportStack: who may
 * read the secret, write to the bucket and invoke the functions, what is allowed on "*" and why,
 * and that nothing reaches the bucket or the alarm topic without TLS. cdk-nag's AwsSolutions
 * pack is run on the same stack in pce-export-stack.test.ts (three configurations) and through
 * bin/app.ts in app.test.ts.
 */

const SECRET_ARN = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:pce/api-key-AbC123';

/** Actions that IAM cannot scope to a resource, the only ones a policy here may allow on "*". */
const XRAY_WRITE = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
const STATE_MACHINE_LOGGING_AND_TRACING = [
  'logs:CreateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:DescribeLogGroups',
  'logs:DescribeResourcePolicies',
  'logs:GetLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:UpdateLogDelivery',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  ...XRAY_WRITE,
].sort();

interface Resources {
  [id: string]: { Type: string; Properties: Record<string, unknown> };
}

function resourcesOf(template: Template): Resources {
  return template.toJSON().Resources as Resources;
}

function propertiesOf(template: Template, id: string): Record<string, unknown> {
  const resource = resourcesOf(template)[id];
  if (!resource) throw new Error(`no resource ${id}`);
  return resource.Properties;
}

function idsOfType(template: Template, type: string): string[] {
  return Object.entries(resourcesOf(template))
    .filter(([, resource]) => resource.Type === type)
    .map(([id]) => id);
}

/** Every Allow statement of every identity policy in the template, with the role it belongs to. */
function allowStatements(template: Template): { role: string; statement: Statement }[] {
  return idsOfType(template, 'AWS::IAM::Role').flatMap((role) =>
    statementsOfRole(template, role)
      .filter((statement) => statement.Effect === 'Allow')
      .map((statement) => ({ role, statement })),
  );
}

function resourcesOfStatement(statement: Statement): string[] {
  return [statement.Resource].flat().map(renderIntrinsics);
}

/** The cdk-nag acknowledgements recorded on a construct: rule id → reason. */
function acknowledgementsOf(construct: IConstruct): Record<string, string> {
  return Object.assign(
    {},
    ...construct.node.metadata
      .filter((entry) => entry.type === 'aws:cdk:acknowledged-rules')
      .map((entry) => entry.data as Record<string, string>),
  );
}

describe('security review of PceExportStack', () => {
  const { template, stack } = synthStack();
  const { workflow } = stack;
  const roleOf = (construct: { role?: IConstruct }) => logicalId(construct.role ?? stack);
  const roles = {
    submit: roleOf(workflow.submitFunction),
    poll: roleOf(workflow.pollFunction),
    fetch: roleOf(workflow.fetchFunction),
    snapshot: roleOf(workflow.snapshotFunction),
    changes: roleOf(workflow.changesFunction),
    trafficRun: roleOf(workflow.trafficFunctions.run),
    trafficWindow: roleOf(workflow.trafficFunctions.window),
    trafficFetch: roleOf(workflow.trafficFunctions.fetch),
    stateMachine: logicalId(workflow.stateMachine.role),
    configWriter: logicalId(stack.node.findChild('ConfigurationWriterRole')),
  };
  /** The five workflow functions and the traffic run's three. */
  const functions = [
    workflow.submitFunction,
    workflow.pollFunction,
    workflow.fetchFunction,
    workflow.snapshotFunction,
    workflow.changesFunction,
    workflow.trafficFunctions.run,
    workflow.trafficFunctions.window,
    workflow.trafficFunctions.fetch,
  ];
  const trafficRoles = [roles.trafficRun, roles.trafficWindow, roles.trafficFetch];
  const functionRoles = [roles.submit, roles.poll, roles.fetch, ...trafficRoles];
  const bucketId = logicalId(stack.bucket);
  const secretId = logicalId(stack.secret);
  const configKey = workflow.exportsConfig?.key ?? '';
  const configObjectArn = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${configKey}`]] };

  describe('the secret', () => {
    it('is read by the six functions that talk to the PCE only, each allowed to describe and read that one secret', () => {
      const secretGrants = allowStatements(template).filter(({ statement }) =>
        actionsOf(statement).some((action) => action.startsWith('secretsmanager:')),
      );

      expect(secretGrants.map(({ role }) => role).sort()).toEqual([...functionRoles].sort());
      for (const { statement } of secretGrants) {
        expect(statement).toEqual({
          Effect: 'Allow',
          Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
          Resource: { Ref: secretId },
        });
      }
    });

    it('is granted by its exact ARN when an existing secret is configured', () => {
      const config = configObject();
      config.secret = { arn: SECRET_ARN };
      const existing = synthStack(config);

      const resources = allowStatements(existing.template)
        .filter(({ statement }) => actionsOf(statement).includes('secretsmanager:GetSecretValue'))
        .flatMap(({ statement }) => resourcesOfStatement(statement));

      expect(resources).toEqual(Array(6).fill(SECRET_ARN));
    });

    it('is passed to the functions by ARN, never by value, and the template holds only the placeholder', () => {
      const workflowFunctions = functions.map(logicalId);
      const variables = idsOfType(template, 'AWS::Lambda::Function').map(
        (id) =>
          (propertiesOf(template, id).Environment as { Variables: Record<string, unknown> } | undefined)
            ?.Variables ?? {},
      );

      // Submit, Poll, Fetch and the traffic run's three functions get the secret's ARN; the
      // snapshot and changes steps never talk to the PCE, nor does the function that writes the
      // configuration object.
      expect(
        idsOfType(template, 'AWS::Lambda::Function').filter((id) => !workflowFunctions.includes(id)),
      ).toEqual(['AWS679f53fac002430cb0da5b7982bd22872D164C4C']);
      expect(variables.filter((env) => 'PCE_SECRET_ID' in env)).toHaveLength(6);
      for (const env of variables) {
        if ('PCE_SECRET_ID' in env) expect(env.PCE_SECRET_ID).toEqual({ Ref: secretId });
        expect(JSON.stringify(env)).not.toMatch(/apiSecret|apiKey|REPLACE_ME|BEGIN CERTIFICATE/);
      }
      template.hasResourceProperties('AWS::SecretsManager::Secret', {
        SecretString: JSON.stringify({ apiKey: 'api_REPLACE_ME', apiSecret: 'REPLACE_ME' }),
      });
    });
  });

  describe('the bucket', () => {
    it("is written by Fetch and the traffic run below the prefix, by the snapshot step below its snapshots folder and by the changes step in the export folders' _changes and _state only, its configuration object read by Submit and the snapshot step, and the watermarks and overlap keys of incremental events exports read by Submit and Fetch: no bucket-level action but listing", () => {
      const byRoleAndStatement = (grant: { role: string; statement: Statement }) =>
        `${grant.role} ${JSON.stringify(grant.statement)}`;
      const s3Grants = allowStatements(template)
        .filter(({ statement }) => actionsOf(statement).some((action) => action.startsWith('s3:')))
        .sort((a, b) => byRoleAndStatement(a).localeCompare(byRoleAndStatement(b)));

      const expected = [
        {
          role: roles.configWriter,
          statement: {
            Effect: 'Allow',
            Action: ['s3:DeleteObject', 's3:PutObject'],
            Resource: configObjectArn,
          },
        },
        // Submit reads an incremental events export's watermark, Fetch the previous run's overlap
        // keys; both may list, so that the first run's missing watermark is a 404, not a 403.
        {
          role: roles.submit,
          statement: {
            Effect: 'Allow',
            Action: 's3:GetObject',
            Resource: [
              { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/pce/*/watermark.json']] },
              configObjectArn,
            ],
          },
        },
        ...[roles.submit, roles.fetch].map((role) => ({
          role,
          statement: {
            Effect: 'Allow',
            Action: 's3:ListBucket',
            Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] },
          },
        })),
        {
          role: roles.fetch,
          statement: {
            Effect: 'Allow',
            Action: 's3:GetObject',
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/pce/*/_incremental/*']] },
          },
        },
        {
          role: roles.fetch,
          statement: {
            Effect: 'Allow',
            Action: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:PutObject', 's3:PutObjectTagging'],
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/pce/*']] },
          },
        },
        {
          role: roles.snapshot,
          statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: configObjectArn },
        },
        {
          role: roles.snapshot,
          statement: {
            Effect: 'Allow',
            Action: 's3:PutObject',
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/pce/snapshots/*']] },
          },
        },
        {
          role: roles.changes,
          statement: {
            Effect: 'Allow',
            Action: 's3:GetObject',
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/pce/*']] },
          },
        },
        {
          role: roles.changes,
          statement: {
            Effect: 'Allow',
            Action: ['s3:AbortMultipartUpload', 's3:PutObject'],
            Resource: ['/pce/*/_changes/*', '/pce/*/_state/*'].map((keys) => ({
              'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, keys]],
            })),
          },
        },
        // The traffic run's steps: their objects below the prefix, and listing, which a run needs
        // for its folders and for a 404 (not a 403) on an object not written yet.
        ...(
          [
            [roles.trafficRun, ['s3:DeleteObject', 's3:GetObject', 's3:PutObject']],
            [roles.trafficWindow, ['s3:GetObject', 's3:PutObject']],
            [
              roles.trafficFetch,
              [
                's3:AbortMultipartUpload',
                's3:DeleteObject',
                's3:GetObject',
                's3:PutObject',
                's3:PutObjectTagging',
              ],
            ],
          ] as const
        ).flatMap(([role, actions]) => [
          {
            role,
            statement: {
              Effect: 'Allow',
              Action: 's3:ListBucket',
              Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] },
            },
          },
          {
            role,
            statement: {
              Effect: 'Allow',
              Action: [...actions],
              Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/pce/*']] },
            },
          },
        ]),
      ];
      expect(s3Grants).toEqual(
        expected.sort((a, b) => byRoleAndStatement(a).localeCompare(byRoleAndStatement(b))),
      );
    });

    it('scopes the Fetch grant to whatever prefix is configured', () => {
      const config = configObject();
      config.bucket = { prefix: 'exports/nightly/' };
      const other = synthStack(config);

      const resources = allowStatements(other.template)
        .filter(({ statement }) => actionsOf(statement).some((action) => action.startsWith('s3:')))
        .flatMap(({ statement }) => resourcesOfStatement(statement));

      const bucket = logicalId(other.stack.bucket);
      const configArn = `<${bucket}.Arn>/${other.stack.workflow.exportsConfig?.key}`;
      expect(other.stack.workflow.exportsConfig?.key).toMatch(/^exports\/nightly\/_pce-export\//);
      expect(resources.sort()).toEqual(
        [
          ...Array(5).fill(`<${bucket}.Arn>`),
          ...Array(3).fill(`<${bucket}.Arn>/exports/nightly/*`),
          `<${bucket}.Arn>/exports/nightly/*/watermark.json`,
          `<${bucket}.Arn>/exports/nightly/*/_incremental/*`,
          `<${bucket}.Arn>/exports/nightly/*`,
          `<${bucket}.Arn>/exports/nightly/snapshots/*`,
          `<${bucket}.Arn>/exports/nightly/*`,
          `<${bucket}.Arn>/exports/nightly/*/_changes/*`,
          `<${bucket}.Arn>/exports/nightly/*/_state/*`,
          configArn,
          configArn,
          configArn,
        ].sort(),
      );
    });

    it('denies every request without TLS, to the bucket and its objects, and allows nothing itself', () => {
      const policies = idsOfType(template, 'AWS::S3::BucketPolicy')
        .map((id) => propertiesOf(template, id))
        .filter((properties) => JSON.stringify(properties.Bucket) === JSON.stringify({ Ref: bucketId }));

      expect(policies).toHaveLength(1);
      expect((policies[0]?.PolicyDocument as { Statement: unknown[] } | undefined)?.Statement).toEqual([
        {
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 's3:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          Resource: [
            { 'Fn::GetAtt': [bucketId, 'Arn'] },
            { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] },
          ],
        },
      ]);
    });

    it('denies requests without TLS on every bucket of the stack, the access-log bucket included', () => {
      const buckets = idsOfType(template, 'AWS::S3::Bucket');
      const denied = idsOfType(template, 'AWS::S3::BucketPolicy')
        .map((id) => propertiesOf(template, id))
        .filter((properties) =>
          (properties.PolicyDocument as { Statement: Statement[] }).Statement.some(
            (statement) =>
              statement.Effect === 'Deny' &&
              JSON.stringify(statement.Condition) ===
                JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } }),
          ),
        )
        .map((properties) => (properties.Bucket as { Ref: string }).Ref);

      expect(buckets).toHaveLength(2);
      expect(denied.sort()).toEqual(buckets.sort());
    });
  });

  describe('the functions and the state machine', () => {
    it("lets the state machine invoke the five workflow functions and the traffic run's three (and their versions) and nothing else in Lambda", () => {
      const lambdaGrants = allowStatements(template).filter(({ statement }) =>
        actionsOf(statement).some((action) => action.startsWith('lambda:')),
      );
      const functionArns = functions
        .map((fn) => `<${logicalId(fn)}.Arn>`)
        .flatMap((arn) => [arn, `${arn}:*`])
        .sort();

      expect(lambdaGrants.map(({ role }) => role)).toEqual([roles.stateMachine]);
      expect(lambdaGrants.flatMap(({ statement }) => actionsOf(statement))).toEqual([
        'lambda:InvokeFunction',
      ]);
      expect(lambdaGrants.flatMap(({ statement }) => resourcesOfStatement(statement)).sort()).toEqual(
        functionArns,
      );
    });

    it('gives no one else a way to invoke the functions: no resource policy, no function URL', () => {
      expect(idsOfType(template, 'AWS::Lambda::Permission')).toEqual([]);
      expect(idsOfType(template, 'AWS::Lambda::Url')).toEqual([]);
    });

    it('lets the schedules start this state machine and report to their dead-letter queue, and do nothing else', () => {
      const scheduleRoles = idsOfType(template, 'AWS::IAM::Role').filter(
        (id) => !Object.values(roles).includes(id),
      );
      const queue = logicalId(stack.node.findChild('Schedules').node.findChild('DeadLetterQueue'));

      expect(scheduleRoles).toHaveLength(1);
      expect(statementsOfRole(template, scheduleRoles[0] ?? '')).toEqual([
        {
          Effect: 'Allow',
          Action: 'states:StartExecution',
          Resource: { Ref: logicalId(workflow.stateMachine) },
        },
        { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [queue, 'Arn'] } },
      ]);
    });

    it('lets each role be assumed by its own service only, within this account', () => {
      const trust = Object.fromEntries(
        idsOfType(template, 'AWS::IAM::Role').map((id) => {
          const properties = propertiesOf(template, id);
          const [statement, ...others] = (
            properties.AssumeRolePolicyDocument as { Statement: { Principal: { Service: string } }[] }
          ).Statement;
          expect(others).toEqual([]);
          expect(properties.ManagedPolicyArns).toBeUndefined();
          return [id, statement?.Principal.Service];
        }),
      );

      expect(trust).toEqual({
        [roles.submit]: 'lambda.amazonaws.com',
        [roles.poll]: 'lambda.amazonaws.com',
        [roles.fetch]: 'lambda.amazonaws.com',
        [roles.snapshot]: 'lambda.amazonaws.com',
        [roles.changes]: 'lambda.amazonaws.com',
        [roles.trafficRun]: 'lambda.amazonaws.com',
        [roles.trafficWindow]: 'lambda.amazonaws.com',
        [roles.trafficFetch]: 'lambda.amazonaws.com',
        [roles.stateMachine]: 'states.amazonaws.com',
        [roles.configWriter]: 'lambda.amazonaws.com',
        [idsOfType(template, 'AWS::IAM::Role').find((id) => !Object.values(roles).includes(id)) ?? '']:
          'scheduler.amazonaws.com',
      });
    });
  });

  describe('wildcards', () => {
    const onStar = allowStatements(template).filter(({ statement }) =>
      resourcesOfStatement(statement).includes('*'),
    );

    it('allows on Resource "*" only X-Ray and log delivery actions, which IAM cannot scope', () => {
      const actionsByRole: Record<string, string[]> = {};
      for (const { role, statement } of onStar) {
        actionsByRole[role] = [...(actionsByRole[role] ?? []), ...actionsOf(statement)].sort();
      }

      expect(actionsByRole).toEqual({
        [roles.submit]: XRAY_WRITE,
        [roles.poll]: XRAY_WRITE,
        [roles.fetch]: XRAY_WRITE,
        [roles.snapshot]: XRAY_WRITE,
        [roles.changes]: XRAY_WRITE,
        [roles.trafficRun]: XRAY_WRITE,
        [roles.trafficWindow]: XRAY_WRITE,
        [roles.trafficFetch]: XRAY_WRITE,
        [roles.stateMachine]: STATE_MACHINE_LOGGING_AND_TRACING,
      });
    });

    it('records the reason for each role that is allowed anything on "*"', () => {
      const constructs = {
        [roles.submit]: workflow.submitFunction.role,
        [roles.poll]: workflow.pollFunction.role,
        [roles.fetch]: workflow.fetchFunction.role,
        [roles.snapshot]: workflow.snapshotFunction.role,
        [roles.changes]: workflow.changesFunction.role,
        [roles.trafficRun]: workflow.trafficFunctions.run.role,
        [roles.trafficWindow]: workflow.trafficFunctions.window.role,
        [roles.trafficFetch]: workflow.trafficFunctions.fetch.role,
        [roles.stateMachine]: workflow.stateMachine.role,
      };

      for (const role of new Set(onStar.map(({ role }) => role))) {
        const construct = constructs[role];
        expect(construct, role).toBeDefined();
        const reason = Object.entries(acknowledgementsOf(construct as IConstruct)).find(([id]) =>
          id.endsWith('AwsSolutions-IAM5[Resource::*]'),
        )?.[1];
        expect(reason, role).toMatch(/X-Ray/);
        expect(reason, role).toMatch(/resource-level permissions/);
      }
    });

    it('allows no action wildcard ("*" or "service:*") anywhere', () => {
      const wildcardActions = allowStatements(template)
        .flatMap(({ statement }) => actionsOf(statement))
        .filter((action) => action === '*' || action.endsWith(':*'));

      expect(wildcardActions).toEqual([]);
    });
  });

  it('only accepts alarm notifications over TLS', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Deny',
            Principal: '*',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Resource: { Ref: logicalId(stack.alarmTopic) },
            Sid: 'AllowPublishThroughSSLOnly',
          },
        ],
      },
    });
  });
});
