import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ExportOutput } from '../../lambdas/contracts/output';
import { fault } from '../../simulator/index';
import { type Duck, openDuck, sqlString } from '../support/duckdb';
import { BUCKET, failed, type Harness, startHarness, succeeded } from './harness';

const MINUTE = 60_000;

/*
 * Incremental events exports run one after another against the simulator, whose audit log holds
 * one event a second up to its clock (the system's): each run's window starts at the previous
 * run's end less the overlap, and the overlap's events the previous run stored are dropped by
 * href. What the runs stored together is checked against what the simulator serves for the whole
 * range.
 */
describe('incremental events exports', () => {
  let h: Harness;
  let duck: Duck;
  let dir: string;
  beforeAll(async () => {
    h = await startHarness({ dataset: { workloads: 50, labels: 20, eventsPerDay: 86_400 } });
    duck = await openDuck();
    dir = await mkdtemp(join(tmpdir(), 'pce-export-events-inc-'));
  });
  afterEach(() => {
    h.reset();
  });
  afterAll(async () => {
    duck?.close();
    await rm(dir, { recursive: true, force: true });
    await h?.close();
  });

  const input = (exportName: string, events: Record<string, unknown> = {}, format = 'ndjson') => ({
    kind: 'events',
    exportName,
    format,
    events: { since: '30m', incremental: true, overlap: '15m', ...events },
  });

  async function hrefsOf(output: ExportOutput): Promise<string[]> {
    const bytes = await h.getObject(output.key);
    if (output.format === 'parquet') {
      const file = join(dir, `${output.exportName}-${output.sha256}.parquet`);
      await writeFile(file, bytes);
      const rows = await duck.rows(`SELECT href FROM read_parquet(${sqlString(file)})`);
      return rows.map((row) => String(row.href));
    }
    const text = (output.gzip ? gunzipSync(bytes) : bytes).toString('utf8').trim();
    return text === '' ? [] : text.split('\n').map((line) => JSON.parse(line).href as string);
  }

  /** The hrefs the simulator serves for the range, through the same async job API. */
  async function servedHrefs(start: string, end: string): Promise<string[]> {
    const served = await h.datafile('/events', { 'timestamp[gte]': start, 'timestamp[lte]': end });
    return (JSON.parse(served.toString('utf8')) as { href: string }[]).map((e) => e.href);
  }

  const watermarkOf = async (exportName: string) =>
    JSON.parse((await h.getObject(`pce/${exportName}/watermark.json`)).toString('utf8'));

  const duplicates = (hrefs: readonly string[]) => hrefs.filter((href, i) => hrefs.indexOf(href) !== i);

  it.each(['ndjson', 'parquet'])(
    'continue where the last run ended, less the overlap, with no event twice and none lost (%s)',
    async (format) => {
      const name = `audit-${format}`;
      const first = succeeded<ExportOutput>(await h.run(input(name, {}, format)));
      const afterFirst = await watermarkOf(name);
      const second = succeeded<ExportOutput>(await h.run(input(name, {}, format)));

      expect(first.incremental).toMatchObject({ mode: 'first', overlapDropped: 0 });
      expect(
        Date.parse(first.incremental?.endDate ?? '') - Date.parse(first.incremental?.startDate ?? ''),
      ).toBe(30 * MINUTE);
      expect(afterFirst).toMatchObject({ exportName: name, end: first.incremental?.endDate });
      expect(second.incremental?.mode).toBe('continued');
      expect(Date.parse(second.incremental?.startDate ?? '')).toBe(
        Date.parse(first.incremental?.endDate ?? '') - 15 * MINUTE,
      );
      const hrefs = [...(await hrefsOf(first)), ...(await hrefsOf(second))];
      const expected = await servedHrefs(
        first.incremental?.startDate ?? '',
        second.incremental?.endDate ?? '',
      );
      expect(expected.length).toBeGreaterThan(1_800);
      expect(duplicates(hrefs)).toEqual([]);
      expect(new Set(hrefs)).toEqual(new Set(expected));
      // Every event of the overlap was the first run's: the second stores only what came after.
      expect(second.incremental?.overlapDropped).toBeGreaterThan(800);
      expect(second.objectCount).toBe(hrefs.length - (first.objectCount ?? 0));
      const manifest = JSON.parse((await h.getObject(second.manifestKey)).toString('utf8'));
      expect(manifest).toMatchObject({
        kind: 'events',
        objectCount: second.objectCount,
        events: { startDate: second.incremental?.startDate, window: { mode: 'continued' } },
        incremental: { mode: 'continued', overlapDropped: second.incremental?.overlapDropped },
      });
      expect(await h.tags(second.key)).toMatchObject({ 'object-count': String(second.objectCount) });
    },
  );

  it('leave the watermark as it was when a run fails, so that the next run covers the hole', async () => {
    const first = succeeded<ExportOutput>(await h.run(input('audit-hole')));
    const before = await watermarkOf('audit-hole');

    h.simulator.faults.add(fault.jobFails('Job failed: exceeded time limit'));
    const broken = failed(await h.run(input('audit-hole')));
    const after = await watermarkOf('audit-hole');
    h.simulator.faults.clear();
    const third = succeeded<ExportOutput>(await h.run(input('audit-hole')));

    expect(broken.error).toBe('PceJobFailed');
    expect(after).toEqual(before);
    expect(third.incremental?.mode).toBe('continued');
    expect(third.incremental?.startDate).toBe(
      new Date(Date.parse(first.incremental?.endDate ?? '') - 15 * MINUTE).toISOString(),
    );
    const hrefs = [...(await hrefsOf(first)), ...(await hrefsOf(third))];
    const expected = await servedHrefs(first.incremental?.startDate ?? '', third.incremental?.endDate ?? '');
    expect(duplicates(hrefs)).toEqual([]);
    expect(new Set(hrefs)).toEqual(new Set(expected));
    expect((await watermarkOf('audit-hole')).end).toBe(third.incremental?.endDate);
  });

  it('reach back no further than the catch-up limit after a long gap, and say what they skipped', async () => {
    const lastEnd = new Date(Date.now() - 24 * 60 * MINUTE).toISOString();
    await h.s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'pce/audit-gap/watermark.json',
        ContentType: 'application/json',
        Body: JSON.stringify({
          exportName: 'audit-gap',
          end: lastEnd,
          executionName: 'a-day-ago',
          manifestKey: 'pce/audit-gap/_manifests/gone.json',
          completedAt: lastEnd,
          tool: 'pce-export/0',
        }),
      }),
    );

    const output = succeeded<ExportOutput>(await h.run(input('audit-gap', { catchUp: '2h' })));

    const { incremental } = output;
    expect(incremental?.mode).toBe('caught-up');
    expect(Date.parse(incremental?.endDate ?? '') - Date.parse(incremental?.startDate ?? '')).toBe(
      120 * MINUTE,
    );
    expect(incremental?.skipped).toEqual({ from: lastEnd, to: incremental?.startDate });
    const hrefs = await hrefsOf(output);
    expect(new Set(hrefs)).toEqual(
      new Set(await servedHrefs(incremental?.startDate ?? '', incremental?.endDate ?? '')),
    );
    const manifest = JSON.parse((await h.getObject(output.manifestKey)).toString('utf8'));
    expect(manifest.incremental).toEqual({
      mode: 'caught-up',
      skipped: incremental?.skipped,
      overlapDropped: 0,
    });
  });
});
