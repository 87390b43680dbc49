import { join } from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { createExportFunction, HANDLERS_DIR } from '../../lib/lambda-defaults';
import { logicalId, unbundledApp } from './support';

describe('Lambda defaults', () => {
  it("merges the caller's environment over the defaults instead of replacing them", () => {
    const stack = new Stack(unbundledApp(), 'Test');

    const { function: fn, logGroup } = createExportFunction(stack, 'Fn', {
      entry: join(HANDLERS_DIR, 'poll.ts'),
      description: 'test function',
      memorySize: 128,
      timeout: Duration.seconds(10),
      logRetention: RetentionDays.ONE_WEEK,
      logLevel: 'DEBUG',
      environment: { EXTRA: 'yes', POWERTOOLS_SERVICE_NAME: 'overridden' },
    });
    fn.addEnvironment('ADDED_LATER', '1');

    const template = Template.fromStack(stack);
    const properties = template.toJSON().Resources[logicalId(fn)].Properties;
    expect(properties.Environment.Variables).toEqual({
      // 128 MB: V8's old space gets 9/10 of it, its semi space 8 MiB (not the runtime's memory / 20).
      NODE_OPTIONS: '--enable-source-maps --max-semi-space-size=8 --max-old-space-size=115',
      POWERTOOLS_SERVICE_NAME: 'overridden',
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
      EXTRA: 'yes',
      ADDED_LATER: '1',
    });
    expect(properties.LoggingConfig).toEqual({ LogGroup: { Ref: logicalId(logGroup) } });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });
});
