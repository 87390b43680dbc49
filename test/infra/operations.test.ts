import type { IFunction } from 'aws-cdk-lib/aws-lambda';
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

const BUCKET_KEY_ARN = 'arn:aws:kms:eu-central-1:123456789012:key/11111111-2222-3333-4444-555555555555';
const SECRET_KEY_ARN = 'arn:aws:kms:eu-central-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:pce/api-key-AbC123';

type Synth = ReturnType<typeof synthStack>;

function roleIdOf(synth: Synth, fn: IFunction): string {
  const resource = synth.template.toJSON().Resources[logicalId(fn)];
  const role = resource.Properties.Role as { 'Fn::GetAtt': [string, string] };
  return role['Fn::GetAtt'][0];
}

function kmsStatements(synth: Synth, fn: IFunction): Statement[] {
  return statementsOfRole(synth.template, roleIdOf(synth, fn)).filter((statement) =>
    actionsOf(statement).some((action) => action.startsWith('kms:')),
  );
}

function allStatements(synth: Synth): Statement[] {
  return Object.values(synth.template.findResources('AWS::IAM::Policy')).flatMap(
    (policy) => policy.Properties.PolicyDocument.Statement as Statement[],
  );
}

function functionsOf(synth: Synth) {
  const { submitFunction, pollFunction, fetchFunction, snapshotFunction, changesFunction } =
    synth.stack.workflow;
  return { submitFunction, pollFunction, fetchFunction, snapshotFunction, changesFunction };
}

describe('the operations dashboard and alarms', () => {
  const synth = synthStack();
  const { template, stack } = synth;
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  const body = dashboards.length === 1 ? renderIntrinsics(dashboards[0]?.Properties.DashboardBody) : '';

  it('synthesizes one dashboard', () => {
    expect(dashboards).toHaveLength(1);
  });

  it("graphs the state machine's executions by status", () => {
    const stateMachineId = logicalId(stack.workflow.stateMachine);
    expect(body).toContain(`<${stateMachineId}>`);
    for (const metric of [
      'ExecutionsSucceeded',
      'ExecutionsFailed',
      'ExecutionsTimedOut',
      'ExecutionsAborted',
    ])
      expect(body).toContain(`"${metric}"`);
  });

  it("graphs the functions' per-export metrics by export and PCE", () => {
    for (const metric of ['Bytes', 'Duration', 'PceRequests', 'PceRetries', 'Errors']) {
      expect(body).toMatch(
        new RegExp(`SEARCH\\('\\{pce-export,[a-z,]*export,pce[a-z,]*\\} MetricName=\\\\"${metric}\\\\"'`),
      );
    }
    expect(body).toContain('error,export,pce');
  });

  it("alarms when the schedules' dead-letter queue holds a start that failed", () => {
    const queues = template.findResources('AWS::SQS::Queue');
    const queueIds = Object.keys(queues);
    expect(queueIds).toHaveLength(1);
    const alarmId = logicalId(stack.operations.scheduleAlarm ?? stack);
    const alarm = template.toJSON().Resources[alarmId];
    expect(alarm).toMatchObject({
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueIds[0], 'QueueName'] } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [{ Ref: logicalId(stack.alarmTopic) }],
      },
    });
  });

  it('sends every schedule that fails to start to that queue, after retries', () => {
    const queueId = Object.keys(template.findResources('AWS::SQS::Queue'))[0];
    const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule'));
    expect(schedules.length).toBeGreaterThan(0);
    for (const schedule of schedules) {
      expect(schedule.Properties.Target.DeadLetterConfig).toEqual({
        Arn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      });
      expect(schedule.Properties.Target.RetryPolicy.MaximumRetryAttempts).toBeGreaterThan(0);
    }
  });
});

describe('customer-managed KMS keys of an existing bucket and secret', () => {
  const config = configObject();
  config.bucket = { name: 'corp-pce-exports', prefix: 'pce/', kmsKeyArn: BUCKET_KEY_ARN };
  config.secret = { arn: SECRET_ARN, kmsKeyArn: SECRET_KEY_ARN };
  const synth = synthStack(config);
  const fns = functionsOf(synth);

  it('lets the functions that read the secret decrypt it with its key, through Secrets Manager, for that secret only', () => {
    for (const fn of [fns.submitFunction, fns.pollFunction, fns.fetchFunction]) {
      const secretKey = kmsStatements(synth, fn).filter((statement) => statement.Resource === SECRET_KEY_ARN);
      expect(secretKey).toEqual([
        {
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: SECRET_KEY_ARN,
          Condition: {
            StringEquals: {
              'kms:ViaService': {
                'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
              },
            },
            StringLike: { 'kms:EncryptionContext:SecretARN': SECRET_ARN },
          },
        },
      ]);
    }
  });

  it("gives Fetch a data key of the bucket's key through S3, for the objects below the prefix, and decrypts only the overlap keys it reads", () => {
    const bucketKey = kmsStatements(synth, fns.fetchFunction).filter(
      (statement) => statement.Resource === BUCKET_KEY_ARN,
    );
    expect(bucketKey).toHaveLength(2);
    const [statement, reading] = bucketKey;
    expect(actionsOf(reading as Statement)).toEqual(['kms:Decrypt']);
    const readingArns =
      ((reading as Statement).Condition as { StringLike: Record<string, unknown[]> }).StringLike[
        'kms:EncryptionContext:aws:s3:arn'
      ] ?? [];
    expect(readingArns.map(renderIntrinsics)).toEqual([
      'arn:<AWS::Partition>:s3:::corp-pce-exports/pce/*/_incremental/*',
      'arn:<AWS::Partition>:s3:::corp-pce-exports',
    ]);
    expect(actionsOf(statement as Statement)).toContain('kms:GenerateDataKey');
    const condition = statement?.Condition as {
      StringEquals: Record<string, unknown>;
      StringLike: Record<string, unknown[]>;
    };
    expect(renderIntrinsics(condition.StringEquals['kms:ViaService'])).toBe('s3.<AWS::Region>.amazonaws.com');
    expect(condition.StringLike['kms:EncryptionContext:aws:s3:arn']?.map(renderIntrinsics)).toEqual([
      'arn:<AWS::Partition>:s3:::corp-pce-exports/pce/*',
      'arn:<AWS::Partition>:s3:::corp-pce-exports',
    ]);
  });

  it('gives the functions that do not read the secret no grant on its key', () => {
    for (const fn of [fns.snapshotFunction, fns.changesFunction]) {
      expect(kmsStatements(synth, fn).filter((statement) => statement.Resource === SECRET_KEY_ARN)).toEqual(
        [],
      );
    }
  });

  it('grants KMS actions on the two named keys only, never kms:* nor on every resource', () => {
    const kms = allStatements(synth).filter((statement) =>
      actionsOf(statement).some((action) => action.startsWith('kms:')),
    );
    expect(kms.length).toBeGreaterThan(0);
    for (const statement of kms) {
      expect([BUCKET_KEY_ARN, SECRET_KEY_ARN]).toContain(statement.Resource);
      expect(statement.Condition).toHaveProperty(['StringEquals', 'kms:ViaService']);
    }
    for (const statement of allStatements(synth)) {
      expect(actionsOf(statement)).not.toContain('kms:*');
      if (actionsOf(statement).some((action) => action.startsWith('kms:')))
        expect(JSON.stringify(statement.Resource)).not.toBe('"*"');
    }
  });
});

describe('an existing bucket and secret without a customer-managed key', () => {
  const config = configObject();
  config.bucket = { name: 'corp-pce-exports', prefix: 'pce/' };
  config.secret = { arn: SECRET_ARN };
  const synth = synthStack(config);

  it('grants no KMS action to any function', () => {
    const kms = allStatements(synth).filter((statement) =>
      actionsOf(statement).some((action) => action.startsWith('kms:')),
    );
    expect(kms).toEqual([]);
    expect(synth.template.findResources('AWS::KMS::Key')).toEqual({});
  });
});
