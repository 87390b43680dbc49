import { Readable } from 'node:stream';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ExportConfigError } from '../../lambdas/contracts/errors';
import {
  mergeOverlapKeys,
  nextRange,
  readOverlapKeys,
  readWatermark,
  recordRun,
  type Watermark,
  watermarkKey,
} from '../../lambdas/export/watermark';

const NOW = new Date('2026-03-10T00:15:00.000Z');
const configured = { start: new Date('2026-03-09T00:15:00.000Z'), end: NOW };
const settings = { overlapSeconds: 600, catchUpSeconds: 7 * 86_400 };

const watermark = (end: string): Watermark => ({
  exportName: 'traffic',
  end,
  keysKey: 'pce/traffic/_runs/dt=2026-03-09/001500Z_a/overlap-keys.json',
  executionName: 'a',
  manifestKey: 'pce/traffic/_manifests/dt=2026-03-09/001500Z_a.manifest.json',
  completedAt: end,
  tool: 'pce-export/0.1.0',
});

describe('nextRange', () => {
  it('uses the configured range for the first run', () => {
    expect(nextRange({ now: NOW, configured, settings })).toEqual({
      start: configured.start,
      end: NOW,
      mode: 'first',
      tailFrom: new Date('2026-03-10T00:05:00.000Z'),
    });
  });

  it("starts where the last run ended, less the overlap, and ends at the run's start", () => {
    const last = watermark('2026-03-09T00:15:00.000Z');

    expect(nextRange({ watermark: last, now: NOW, configured, settings })).toEqual({
      start: new Date('2026-03-09T00:05:00.000Z'),
      end: NOW,
      mode: 'continued',
      previous: last,
      tailFrom: new Date('2026-03-10T00:05:00.000Z'),
    });
  });

  it('catches up after missed runs, as far back as the catch-up limit', () => {
    const last = watermark('2026-03-05T00:00:00.000Z');

    expect(nextRange({ watermark: last, now: NOW, configured, settings })).toMatchObject({
      start: new Date('2026-03-04T23:50:00.000Z'),
      end: NOW,
      mode: 'continued',
    });
  });

  it('says which range it skips when the last run ended before the catch-up limit', () => {
    const last = watermark('2026-03-01T00:00:00.000Z');

    expect(nextRange({ watermark: last, now: NOW, configured, settings })).toEqual({
      start: new Date('2026-03-03T00:15:00.000Z'),
      end: NOW,
      mode: 'caught-up',
      skipped: { from: '2026-03-01T00:00:00.000Z', to: '2026-03-03T00:15:00.000Z' },
      tailFrom: new Date('2026-03-10T00:05:00.000Z'),
    });
  });

  it('covers the overlap only when the run started before the last one ended', () => {
    const last = watermark('2026-03-10T00:20:00.000Z');

    expect(nextRange({ watermark: last, now: NOW, configured, settings })).toMatchObject({
      start: new Date('2026-03-10T00:10:00.000Z'),
      end: new Date('2026-03-10T00:20:00.000Z'),
      mode: 'continued',
    });
  });
});

describe('mergeOverlapKeys', () => {
  it('keeps the keys from the given time on, each once, in time order', () => {
    const from = new Date(1_000);

    expect(
      mergeOverlapKeys(
        from,
        [
          [3_000, 'cc'],
          [999, 'aa'],
        ],
        [
          [1_000, 'bb'],
          [3_000, 'cc'],
        ],
      ),
    ).toEqual({
      from: '1970-01-01T00:00:01.000Z',
      keys: [
        [1_000, 'bb'],
        [3_000, 'cc'],
      ],
    });
  });
});

describe('the watermark object', () => {
  const s3 = mockClient(S3Client);
  afterEach(() => s3.reset());
  /** A GetObject body as the SDK hands it over. */
  const body = (text: string) =>
    Object.assign(Readable.from([Buffer.from(text)]), { transformToString: async () => text }) as never;

  it('lives beside latest.json', () => {
    expect(watermarkKey('pce/', 'traffic')).toBe('pce/traffic/watermark.json');
  });

  it('is undefined before the first complete run', async () => {
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'gone', $metadata: {} }));

    await expect(readWatermark(new S3Client({}), 'b', 'pce/traffic/watermark.json')).resolves.toBeUndefined();
  });

  it('reads back what a run recorded', async () => {
    const { tool: _tool, ...recorded } = watermark('2026-03-09T00:15:00.000Z');
    s3.on(PutObjectCommand).resolves({});

    const written = await recordRun(new S3Client({}), 'b', 'pce/traffic/watermark.json', recorded);
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    s3.on(GetObjectCommand).resolves({ Body: body(String(put?.Body)) });

    await expect(readWatermark(new S3Client({}), 'b', 'pce/traffic/watermark.json')).resolves.toEqual(
      written,
    );
    expect(put).toMatchObject({
      Bucket: 'b',
      Key: 'pce/traffic/watermark.json',
      ContentType: 'application/json',
    });
  });

  it('fails with ExportConfigError naming the object when it is not one this version wrote', async () => {
    s3.on(GetObjectCommand).resolves({ Body: body('{"end": 5}') });

    const read = readWatermark(new S3Client({}), 'b', 'pce/traffic/watermark.json');

    await expect(read).rejects.toBeInstanceOf(ExportConfigError);
    await expect(read).rejects.toThrow('s3://b/pce/traffic/watermark.json');
  });

  it('reads overlap keys, and none when the object is gone', async () => {
    s3.on(GetObjectCommand, { Key: 'k' }).resolves({
      Body: body('{"from":"2026-03-10T00:05:00.000Z","keys":[[1,"0123456789abcdef"]]}'),
    });
    s3.on(GetObjectCommand, { Key: 'gone' }).rejects(new NoSuchKey({ message: 'gone', $metadata: {} }));

    await expect(readOverlapKeys(new S3Client({}), 'b', 'k')).resolves.toEqual({
      from: '2026-03-10T00:05:00.000Z',
      keys: [[1, '0123456789abcdef']],
    });
    await expect(readOverlapKeys(new S3Client({}), 'b', 'gone')).resolves.toBeUndefined();
  });
});
