import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { currentRunKey, type Manifest } from '../layout';
import { storage } from '../storage';

/** What the pointer names: a run's object, or the folder of a traffic run's window objects. */
type CurrentRun = Pick<Manifest, 'exportName' | 'bucket' | 'key' | 'uri' | 'executionName' | 'completedAt'>;

/**
 * Points `{export}/_current/run.json` at a run that has just completed (after its manifest and
 * latest.json): one line of JSON, the one row of the `{table}_current_run` table that the
 * `{table}_current` view reads (lib/glue-views.ts). The view keeps the rows whose object's path
 * starts with `uri`: the object itself, or every object of a traffic run's folder.
 */
export async function writeCurrentRun(s3: S3Client, prefix: string, manifest: CurrentRun): Promise<void> {
  const key = currentRunKey(prefix, manifest.exportName);
  const partition = /\/(dt=)(\d{4}-\d{2}-\d{2})\//.exec(manifest.key);
  const row = {
    uri: manifest.uri,
    key: manifest.key,
    dt: partition?.[2] ?? null,
    execution_name: manifest.executionName,
    completed_at: manifest.completedAt,
  };
  await storage(manifest.bucket, key, 'writing', () =>
    s3.send(
      new PutObjectCommand({
        Bucket: manifest.bucket,
        Key: key,
        Body: `${JSON.stringify(row)}\n`,
        ContentType: 'application/x-ndjson',
      }),
    ),
  );
}
