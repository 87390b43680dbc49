import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { logicalId, projectApp, synthStack } from './support';

describe('Lambda bundling', () => {
  // Bundles for real with esbuild (no Docker), as cdk synth does.
  it('bundles each handler into one minified CommonJS file with a source map, AWS SDK included', () => {
    const app = projectApp();
    const { stack } = synthStack(undefined, app);
    const assembly = app.synth();
    const template = assembly.getStackByName(stack.stackName).template as {
      Resources: Record<string, { Properties: { Code: { S3Key: string } } }>;
    };

    for (const fn of [
      stack.workflow.submitFunction,
      stack.workflow.pollFunction,
      stack.workflow.fetchFunction,
    ]) {
      const s3Key = template.Resources[logicalId(fn)]?.Properties.Code.S3Key;
      if (s3Key === undefined) throw new Error(`${fn.node.path} has no code asset`);
      const dir = join(assembly.directory, `asset.${s3Key.replace(/\.zip$/, '')}`);
      const code = readFileSync(join(dir, 'index.js'), 'utf8');

      expect(existsSync(join(dir, 'index.js.map'))).toBe(true);
      expect(code).toMatch(/exports|module\.exports/);
      // Only the SDK's optional CRT signer stays an unresolved require (it is loaded in a try/catch).
      expect(code).not.toMatch(/require\("@aws-sdk\/(?!signature-v4-crt")/);
      expect(code).toContain('GetSecretValue');
      expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
      expect(invokeBundle(dir, { input: { path: 'not a path' } })).toBe('ExportConfigError');
    }

    // The snapshot step writes manifests and never reads the secret.
    const snapshotKey = template.Resources[logicalId(stack.workflow.snapshotFunction)]?.Properties.Code.S3Key;
    if (snapshotKey === undefined) throw new Error('the snapshot function has no code asset');
    const snapshotDir = join(assembly.directory, `asset.${snapshotKey.replace(/\.zip$/, '')}`);
    const snapshotCode = readFileSync(join(snapshotDir, 'index.js'), 'utf8');
    expect(existsSync(join(snapshotDir, 'index.js.map'))).toBe(true);
    expect(snapshotCode).not.toMatch(/require\("@aws-sdk\/(?!signature-v4-crt")/);
    expect(snapshotCode).toContain('PutObject');
    expect(snapshotCode).not.toContain('GetSecretValue');
    expect(invokeBundle(snapshotDir, { step: 'plan', input: { snapshot: { name: '../up' } } })).toBe(
      'ExportConfigError',
    );
  });
});

/**
 * Loads a bundle in a fresh Node.js process, as the Lambda runtime would, and calls its handler
 * with an event it must reject before touching any AWS service or the PCE. Returns the error name.
 */
function invokeBundle(dir: string, event: unknown): string {
  const script = `
    const { handler } = require(${JSON.stringify(join(dir, 'index.js'))});
    handler(${JSON.stringify(event)}, {}).then(
      () => process.stdout.write('resolved'),
      (error) => process.stdout.write(error.name),
    );`;
  return execFileSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '',
      AWS_REGION: 'us-east-1',
      PCE_URL: 'https://pce.example.com:8443',
      PCE_ORG_ID: '1',
      PCE_SECRET_ID: 'pce-export/test',
      EXPORT_BUCKET: 'bucket',
      EXPORT_PREFIX: 'pce/',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      // The failed invocation's Errors metric would go to stdout too.
      POWERTOOLS_METRICS_DISABLED: 'true',
    },
    timeout: 600_000,
  });
}
