import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config';
import { PceExportStack } from '../../lib/pce-export-stack';
import { DEFAULT_CONFIG_PATH, synthesizeLocalDefinition } from '../../local/definition';
import { renderDefinition, unbundledApp } from '../infra/support';

/**
 * Replaces every Lambda ARN, however it was rendered (`arn:aws:lambda:…:function:Id` locally,
 * `<Id.Arn>` by the test renderer), with the function's logical id, and the partition, region
 * and account (e.g. in the event bus ARN) with the values the local synth gives them.
 */
function withoutArns(definition: unknown): unknown {
  return JSON.parse(
    JSON.stringify(definition)
      .replace(/arn:aws:lambda:[^"]*:function:([A-Za-z0-9]+)/g, 'function:$1')
      .replace(/<([A-Za-z0-9]+)\.Arn>/g, 'function:$1')
      .replaceAll('<AWS::Partition>', 'aws')
      .replaceAll('<AWS::Region>', 'us-east-1')
      .replaceAll('<AWS::AccountId>', '000000000000'),
  );
}

describe('the definition the local engine executes', () => {
  it('is the one cdk synth renders for the configured stack, apart from the Lambda ARNs', () => {
    const stack = new PceExportStack(unbundledApp(), 'PceExport', {
      config: loadConfig(DEFAULT_CONFIG_PATH),
    });
    const deployed = renderDefinition(Template.fromStack(stack));

    const local = synthesizeLocalDefinition();

    expect(withoutArns(local.definition)).toEqual(withoutArns(deployed));
    expect(JSON.stringify(local.definition)).not.toMatch(/"QueryLanguage"\s*:\s*"JSONata"/);
  });

  it('maps every Task state that invokes a function to a handler module', () => {
    const local = synthesizeLocalDefinition();

    const tasks = Object.entries(local.definition.States).filter(([, state]) => state.Type === 'Task');
    expect(tasks.length).toBeGreaterThanOrEqual(3);
    expect(local.taskHandlers).toMatchObject({ Submit: 'submit', Poll: 'poll', Fetch: 'fetch' });
  });
});

describe('the configured exports a local run resolves names with', () => {
  it('are those the deployed functions get from the deploy configuration', () => {
    const config = loadConfig(DEFAULT_CONFIG_PATH);

    const { workflows } = synthesizeLocalDefinition();

    expect(Object.keys(workflows)).toEqual(['']);
    const { exports, snapshots } = JSON.parse(workflows['']?.configuration ?? '{}') as {
      exports: Record<string, { path?: string }>;
      snapshots: Record<string, unknown>;
    };
    expect(Object.keys(exports).sort()).toEqual(config.exports.map((e) => e.name).sort());
    expect(exports.workloads?.path).toBe('/workloads');
    expect(Object.keys(snapshots)).toEqual((config.snapshots ?? []).map((s) => s.name));
  });
});
