import { resolve } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type ExportConfig, loadConfig } from '../lib/config';
import { PceExportStack } from '../lib/pce-export-stack';

const REPO_ROOT = resolve(import.meta.dirname, '..');

const app = new App();
const configContext: unknown = app.node.tryGetContext('config');
const configPath =
  typeof configContext === 'string' && configContext !== ''
    ? resolve(configContext)
    : resolve(REPO_ROOT, 'config', 'pce-export.json');

let config: ExportConfig;
try {
  config = loadConfig(configPath);
} catch (error) {
  console.error(`Invalid pce-export configuration: ${(error as Error).message}`);
  process.exit(1);
}

// Environment-agnostic: deploys to the account and region of the credentials in use.
new PceExportStack(app, 'PceExport', { config });
// cdk-nag runs as a policy validation plugin: synth fails on any unacknowledged finding.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
