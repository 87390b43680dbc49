import { createHash } from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { EXPORTS_CONFIG_FOLDER } from '../lambdas/export/exports-config';
import type { LocalDefinition, LocalWorkflow } from './stack';

/*
 * What the stack's configuration writer does at deploy time, done before a local run: the
 * workflow's configured exports and snapshots go into the run's bucket as one object whose key
 * and variables carry its sha256, exactly as the functions find them in AWS.
 */

/** The workflow of the PCE a run is for: the one named, or the input's `pce`, or the only one. */
export function workflowFor(local: LocalDefinition, pce: string | undefined, input: unknown): LocalWorkflow {
  const named = pce ?? inputPce(input);
  const workflows = Object.entries(local.workflows);
  if (named === undefined) {
    const [only, ...others] = workflows;
    if (only && others.length === 0) return only[1];
    const known = workflows.map(([name]) => name).join(', ');
    throw new Error(`the configuration has several PCEs (${known}): name one (the input's "pce")`);
  }
  // A configuration whose one PCE has a name keeps the unnamed workflow.
  const workflow = local.workflows[named] ?? (workflows.length === 1 ? workflows[0]?.[1] : undefined);
  if (!workflow) {
    const known = workflows.map(([name]) => name).join(', ');
    throw new Error(`PCE ${JSON.stringify(named)} is not in the configuration (it has ${known})`);
  }
  return workflow;
}

function inputPce(input: unknown): string | undefined {
  const pce = (input as { pce?: unknown } | null | undefined)?.pce;
  return typeof pce === 'string' ? pce : undefined;
}

/** The object's content: the workflow's, with the exports or snapshots a run passes instead. */
export function configurationBody(
  workflow: LocalWorkflow,
  overrides: { readonly exports?: unknown; readonly snapshots?: unknown },
): string | undefined {
  if (overrides.exports === undefined && overrides.snapshots === undefined) return workflow.configuration;
  const configured = JSON.parse(workflow.configuration ?? '{"exports":{},"snapshots":{}}') as {
    exports: unknown;
    snapshots: unknown;
  };
  return JSON.stringify({
    exports: overrides.exports ?? configured.exports,
    snapshots: overrides.snapshots ?? configured.snapshots,
  });
}

/**
 * Puts the object into `bucket` below `prefix` (through the S3 endpoint the engine set) and
 * returns the variables that name it.
 */
export async function writeConfiguration(
  bucket: string,
  prefix: string,
  body: string,
): Promise<Record<string, string>> {
  const sha256 = createHash('sha256').update(body).digest('hex');
  const key = `${prefix}${EXPORTS_CONFIG_FOLDER}/exports-${sha256}.json`;
  // A client per write: each engine has an S3 endpoint of its own (AWS_ENDPOINT_URL_S3).
  const client = new S3Client({});
  try {
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }),
    );
  } finally {
    client.destroy();
  }
  return { EXPORTS_CONFIG_BUCKET: bucket, EXPORTS_CONFIG_KEY: key, EXPORTS_CONFIG_SHA256: sha256 };
}
