import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { createPceClient } from '../../lambdas/pce/client';
import {
  type LocalEngine,
  type LocalEngineOptions,
  type LocalRunOptions,
  startLocalEngine,
} from '../../local/engine';
import type { RunOutcome } from '../../local/runner';
import { type RunningSimulator, type SimulatorOptions, startSimulator } from '../../simulator/index';

export const BUCKET = 'exports';
export const PREFIX = 'pce/';

export interface Harness {
  readonly simulator: RunningSimulator;
  readonly engine: LocalEngine;
  readonly s3: S3Client;
  /** The simulator as the PCE (credentials, CA when on TLS), the bucket and the prefix every run takes. */
  readonly target: Omit<LocalRunOptions, 'input'>;
  /** Runs the workflow against the simulator with its credentials (and CA when on TLS). */
  run(input: unknown, overrides?: Partial<LocalRunOptions>): Promise<RunOutcome>;
  getObject(key: string): Promise<Buffer>;
  /** User metadata plus `content-type`. */
  head(key: string): Promise<Record<string, string>>;
  /** The object's tags (`sha256`, `object-count`), by key. */
  tags(key: string): Promise<Record<string, string>>;
  listKeys(prefix?: string): Promise<string[]>;
  /** The datafile the simulator serves for a collection, fetched through the async protocol directly. */
  datafile(path: string, query?: Record<string, string>): Promise<Buffer>;
  /**
   * Clears, between tests, the faults armed in the simulator and in the engine's stand-ins for
   * AWS, the requests the simulator and the embedded S3 recorded and the events the engine sent.
   */
  reset(): void;
  close(): Promise<void>;
}

/**
 * One simulator (HTTPS with a private CA, short jobs, Retry-After 1 s) and one local engine per
 * test file: the engine owns the process's AWS endpoint variables. `engineOptions` give the
 * engine a deploy configuration or replaced handlers; its S3 is always the embedded one.
 */
export async function startHarness(
  options: SimulatorOptions = {},
  engineOptions: Omit<LocalEngineOptions, 's3'> = {},
): Promise<Harness> {
  const simulator = await startSimulator({
    tls: true,
    jobDurationMs: 400,
    retryAfterSeconds: 1,
    dataset: { workloads: 500, labels: 60 },
    ...options,
  });
  const engine = await startLocalEngine({ ...engineOptions, s3: { embedded: true, bucket: BUCKET } });
  const endpoint = engine.s3?.endpoint;
  if (!endpoint) throw new Error('the engine has no embedded S3');
  const s3 = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });

  const pce = {
    url: simulator.url,
    orgId: 1,
    apiKey: simulator.credentials.apiKey,
    apiSecret: simulator.credentials.apiSecret,
    caBundle: simulator.caPem,
  };

  const target = { pce, bucket: BUCKET, prefix: PREFIX };

  return {
    simulator,
    engine,
    s3,
    target,
    run: (input, overrides = {}) => engine.run({ ...target, input, ...overrides }),
    async getObject(key) {
      const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      return Buffer.from(
        await (
          object.Body as Readable & { transformToByteArray(): Promise<Uint8Array> }
        ).transformToByteArray(),
      );
    },
    async head(key) {
      const object = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      return { ...(object.Metadata ?? {}), 'content-type': object.ContentType ?? '' };
    },
    async tags(key) {
      const tagging = await s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key }));
      return Object.fromEntries((tagging.TagSet ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
    },
    async listKeys(prefix = '') {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
      return (listed.Contents ?? []).map((o) => o.Key ?? '').sort();
    },
    async datafile(path, query = {}) {
      const client = createPceClient({ ...pce, baseUrl: pce.url });
      try {
        const { jobHref } = await client.collections.submit({ path: path, query: query });
        for (let i = 0; i < 50; i++) {
          const job = await client.collections.poll(jobHref);
          if (job.status === 'done' && job.resultHref) {
            const file = await client.collections.open(job.resultHref);
            const chunks: Buffer[] = [];
            for await (const chunk of file.body) chunks.push(chunk as Buffer);
            await client.collections.delete(jobHref);
            return Buffer.concat(chunks);
          }
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        throw new Error(`job ${jobHref} did not finish`);
      } finally {
        await client.close();
      }
    },
    reset() {
      simulator.faults.clear();
      simulator.requests.length = 0;
      if (engine.s3) engine.s3.requests.length = 0;
      engine.faults.lambda.clear();
      engine.faults.s3?.clear();
      engine.faults.secrets.clear();
      engine.events.clear();
    },
    async close() {
      s3.destroy();
      await engine.close();
      await simulator.close();
    },
  };
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Narrows a run outcome, failing the test with the error when it did not succeed. */
export function succeeded<T = Record<string, unknown>>(outcome: RunOutcome): T {
  if (outcome.status !== 'SUCCEEDED') {
    throw new Error(`expected the execution to succeed, it failed with ${outcome.error}: ${outcome.cause}`);
  }
  return outcome.output as T;
}

/** The failure of a run, failing the test when the run succeeded. */
export function failed(outcome: RunOutcome): { error: string; cause: string } {
  if (outcome.status !== 'FAILED') {
    throw new Error(`expected the execution to fail, it succeeded: ${JSON.stringify(outcome.output)}`);
  }
  return { error: outcome.error, cause: outcome.cause };
}
