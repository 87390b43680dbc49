import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../lib/lambda-defaults';
import { configObject } from './support';

const dir = mkdtempSync(join(tmpdir(), 'pce-export-app-'));

/** Runs bin/app.ts the way the CDK CLI does, without bundling the functions. */
function runApp(context: Record<string, unknown>) {
  const outdir = mkdtempSync(join(dir, 'cdk.out-'));
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: {
      ...process.env,
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [], ...context }),
    },
  });
  return { ...result, outdir };
}

describe('bin/app.ts', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('synthesizes the example configuration with every cdk-nag finding resolved or acknowledged', () => {
    const { status, stderr, outdir } = runApp({});

    expect(stderr).not.toMatch(/AwsSolutions-/);
    expect(status).toBe(0);
    expect(existsSync(join(outdir, 'PceExport.template.json'))).toBe(true);
    // A child process that synthesizes and runs cdk-nag: over a minute on a busy machine.
  }, 300_000);

  it('exits non-zero with the field named when the configuration given by -c config is invalid', () => {
    const file = join(dir, 'invalid.json');
    const config = configObject();
    config.exports[1] = {
      name: 'labels',
      kind: 'collection',
      path: '/labels',
      schedule: { expression: 'daily' },
    };
    writeFileSync(file, JSON.stringify(config));

    const { status, stderr } = runApp({ config: file });

    expect(status).toBe(1);
    expect(stderr).toContain('exports[1].schedule.expression must be rate(...), cron(...) or at(...)');
  });
});
