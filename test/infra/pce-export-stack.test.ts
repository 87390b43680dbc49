import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import {
  actionsOf,
  configObject,
  logicalId,
  renderIntrinsics,
  statementsOfRole,
  synthStack,
} from './support';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:pce/api-key-AbC123';

describe('PceExportStack bucket', () => {
  const { template, stack } = synthStack();
  const bucketId = logicalId(stack.bucket);
  const bucket = template.toJSON().Resources[bucketId];

  it('creates a private, versioned, encrypted export bucket that outlives the stack', () => {
    expect(bucket).toMatchObject({
      Type: 'AWS::S3::Bucket',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
      },
    });
  });

  it('aborts incomplete multipart uploads after a day and expires noncurrent versions after 30 days', () => {
    expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual([
      {
        Id: 'AbortIncompleteUploads',
        Status: 'Enabled',
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      },
      {
        Id: 'ExpireNoncurrentVersions',
        Status: 'Enabled',
        NoncurrentVersionExpiration: { NoncurrentDays: 30 },
      },
    ]);
  });

  it('denies every request that does not use TLS', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('logs server access to a separate private bucket', () => {
    const logsBucketId = (bucket.Properties.LoggingConfiguration.DestinationBucketName as { Ref: string })
      .Ref;

    expect(logsBucketId).not.toBe(bucketId);
    expect(template.toJSON().Resources[logsBucketId]).toMatchObject({
      Type: 'AWS::S3::Bucket',
      DeletionPolicy: 'Retain',
      Properties: {
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logsBucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('uses an existing bucket by name, creating none and granting only below the prefix', () => {
    const config = configObject();
    config.bucket = { name: 'existing-exports', prefix: 'pce/' };
    const imported = synthStack(config);
    const fetchRoleId = logicalId(imported.stack.workflow.fetchFunction.role ?? imported.stack);
    const s3Resources = statementsOfRole(imported.template, fetchRoleId)
      .filter((statement) => actionsOf(statement).includes('s3:PutObject'))
      .map((statement) => renderIntrinsics(statement.Resource));

    imported.template.resourceCountIs('AWS::S3::Bucket', 0);
    expect(s3Resources).toEqual(['arn:<AWS::Partition>:s3:::existing-exports/pce/*']);
    imported.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ EXPORT_BUCKET: 'existing-exports' }) },
    });
  });
});

describe('PceExportStack secret', () => {
  it('creates a placeholder secret in the documented JSON shape when none is configured', () => {
    const { template, stack } = synthStack();

    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      SecretString: JSON.stringify({ apiKey: 'api_REPLACE_ME', apiSecret: 'REPLACE_ME' }),
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ PCE_SECRET_ID: { Ref: logicalId(stack.secret) } }) },
    });
  });

  it('uses an existing secret by complete ARN and lets the functions read exactly that secret', () => {
    const config = configObject();
    config.secret = { arn: SECRET_ARN };
    const { template, stack } = synthStack(config);
    const submitRoleId = logicalId(stack.workflow.submitFunction.role ?? stack);

    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(
      statementsOfRole(template, submitRoleId).filter((statement) =>
        actionsOf(statement).includes('secretsmanager:GetSecretValue'),
      ),
    ).toEqual([
      {
        Effect: 'Allow',
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        Resource: SECRET_ARN,
      },
    ]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ PCE_SECRET_ID: SECRET_ARN }) },
    });
  });

  it('uses an existing secret by name, granting its ARN with the six-character suffix wildcard', () => {
    const config = configObject();
    config.secret = { name: 'pce/api-key' };
    const { template, stack } = synthStack(config);
    const fetchRoleId = logicalId(stack.workflow.fetchFunction.role ?? stack);
    const secretResources = statementsOfRole(template, fetchRoleId)
      .filter((statement) => actionsOf(statement).includes('secretsmanager:GetSecretValue'))
      .map((statement) => renderIntrinsics(statement.Resource));

    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(secretResources).toEqual([
      'arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:pce/api-key-??????',
    ]);
  });
});

describe('PceExportStack schedules', () => {
  const { template, stack } = synthStack();
  const stateMachineId = logicalId(stack.workflow.stateMachine);
  const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule')).map(
    (schedule) => schedule.Properties,
  );

  it('creates one schedule per scheduled export, starting this state machine with that export as input', () => {
    const byInput = Object.fromEntries(
      schedules.map((schedule) => [JSON.parse(schedule.Target.Input).exportName, schedule]),
    );

    expect(Object.keys(byInput).sort()).toEqual(['labels', 'workloads']);
    expect(byInput.workloads).toMatchObject({
      ScheduleExpression: 'cron(0 5 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Zurich',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { Ref: stateMachineId },
        RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
      },
    });
    expect(JSON.parse(byInput.workloads.Target.Input)).toEqual({
      exportName: 'workloads',
      path: '/workloads',
      query: { managed: 'true' },
      format: 'ndjson',
      gzip: true,
      maxWaitSeconds: 3600,
    });
    expect(byInput.labels).toMatchObject({
      ScheduleExpression: 'rate(6 hours)',
      ScheduleExpressionTimezone: 'UTC',
    });
    expect(JSON.parse(byInput.labels.Target.Input)).toEqual({ exportName: 'labels', path: '/labels' });
  });

  it('deploys a disabled schedule in the DISABLED state', () => {
    const config = configObject();
    const [first] = config.exports;
    if (first) first.schedule = { expression: 'rate(1 day)', timeZone: 'UTC', enabled: false };
    const disabled = synthStack(config);

    disabled.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 day)',
      State: 'DISABLED',
    });
  });

  it("runs schedules as a role that may only start this state machine and report to its dead-letter queue, assumable by the account's Scheduler", () => {
    const roleIds = [
      ...new Set(schedules.map((schedule) => schedule.Target.RoleArn['Fn::GetAtt'][0] as string)),
    ];
    const [roleId] = roleIds;
    if (roleId === undefined) throw new Error('the schedules have no role');

    const queueId = logicalId(stack.node.findChild('Schedules').node.findChild('DeadLetterQueue'));
    expect(roleIds).toHaveLength(1);
    expect(statementsOfRole(template, roleId)).toEqual([
      { Effect: 'Allow', Action: 'states:StartExecution', Resource: { Ref: stateMachineId } },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [queueId, 'Arn'] } },
    ]);
    expect(template.toJSON().Resources[roleId].Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
    ]);
  });

  it('creates no schedule and no scheduler role when no export is scheduled', () => {
    const config = configObject();
    config.exports = [{ name: 'labels', kind: 'collection', path: '/labels' }];
    const unscheduled = synthStack(config);

    unscheduled.template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    unscheduled.template.resourcePropertiesCountIs(
      'AWS::IAM::Role',
      {
        AssumeRolePolicyDocument: {
          Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' } })],
        },
      },
      0,
    );
  });
});

describe('PceExportStack alarm', () => {
  const { template, stack } = synthStack();
  const stateMachineId = logicalId(stack.workflow.stateMachine);
  const topicId = logicalId(stack.alarmTopic);

  it('alarms when any execution fails, times out or is aborted within five minutes', () => {
    const metric = (id: string, name: string) => ({
      Id: id,
      ReturnData: false,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/States',
          MetricName: name,
          Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: stateMachineId } }],
        },
        Period: 300,
        Stat: 'Sum',
      },
    });

    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [
        Match.objectLike({ Expression: 'failed + timedOut + aborted', ReturnData: true }),
        metric('failed', 'ExecutionsFailed'),
        metric('timedOut', 'ExecutionsTimedOut'),
        metric('aborted', 'ExecutionsAborted'),
      ],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: topicId }],
    });
  });

  it('notifies the configured address through a topic that only accepts TLS', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: topicId },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('subscribes nobody when no alarm email is configured', () => {
    const config = configObject();
    delete config.alarmEmail;

    synthStack(config).template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('PceExportStack outputs', () => {
  const { template, stack } = synthStack();
  const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
  const value = (name: string) => renderIntrinsics(outputs[name]?.Value);
  const secretId = logicalId(stack.secret);
  const stateMachineId = logicalId(stack.workflow.stateMachine);

  it('names the bucket, the state machine and the secret', () => {
    expect(value('BucketName')).toBe(`<${logicalId(stack.bucket)}>`);
    expect(value('StateMachineArn')).toBe(`<${stateMachineId}>`);
    expect(value('SecretArn')).toBe(`<${secretId}>`);
  });

  it('prints the command that stores the API key and the one that runs the first export', () => {
    expect(value('PutSecretValueCommand')).toBe(
      `aws secretsmanager put-secret-value --secret-id <${secretId}> --secret-string '{"apiKey":"api_REPLACE_ME","apiSecret":"REPLACE_ME"}'`,
    );
    expect(value('StartExecutionCommand')).toBe(
      `aws stepfunctions start-execution --state-machine-arn <${stateMachineId}> --input '{"exportName":"workloads"}'`,
    );
  });
});

describe('PceExportStack cdk-nag (AwsSolutions)', () => {
  const variants: [string, (config: ReturnType<typeof configObject>) => void][] = [
    ['the example configuration', () => {}],
    [
      'an existing bucket and secret',
      (config) => {
        config.bucket = { name: 'existing-exports', prefix: 'pce/' };
        config.secret = { arn: SECRET_ARN };
      },
    ],
    [
      'a secret by name, no prefix and no schedules',
      (config) => {
        config.bucket = { prefix: '' };
        config.secret = { name: 'pce/api-key' };
        config.exports = [];
        delete config.alarmEmail;
      },
    ],
  ];

  it.each(variants)('reports no unacknowledged error or warning for %s', (_, change) => {
    const config = configObject();
    change(config);
    const { app } = synthStack(config);

    const report = new AwsSolutionsChecks(app, { verbose: true }).validateScope(app);

    expect(
      report.violations.map(
        (violation) =>
          `${violation.ruleName}: ${violation.violatingResources.map((r) => r.constructPath).join(', ')}`,
      ),
    ).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('acknowledges wildcards one finding at a time, each with a reason', () => {
    const { stack } = synthStack();
    const acknowledgements = stack.node
      .findAll()
      .flatMap((construct) => construct.node.metadata)
      .filter((entry) => entry.type === 'aws:cdk:acknowledged-rules')
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>));

    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const [id, reason] of acknowledgements) {
      expect(id).toMatch(/AwsSolutions-(IAM5\[Resource::.+\]|S1|SMG4|SNS2|SQS3)$/);
      expect(reason.length).toBeGreaterThan(40);
    }
    expect(acknowledgements.map(([id]) => id)).not.toContain('AwsSolutions-IAM5');
  });
});

describe('PceExportStack Fetch memory', () => {
  it('gives the Fetch function fetchMemoryMb from the configuration, and one vCPU without it', () => {
    const configured = configObject();
    configured.fetchMemoryMb = 3008;
    const sizes = (template: ReturnType<typeof synthStack>['template']) =>
      Object.values(template.findResources('AWS::Lambda::Function'))
        .map((fn) => fn.Properties as { MemorySize?: number; Description?: string })
        .filter((props) => props.Description?.startsWith('pce-export Fetch'))
        .map((props) => props.MemorySize);

    expect(sizes(synthStack(configured).template)).toEqual([3008]);
    expect(sizes(synthStack().template)).toEqual([1769]);
  });
});
