import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportOutput } from '../../lambdas/contracts/output';
import { type Harness, startHarness, succeeded } from './harness';

interface ChangeRow {
  href: string;
  change: 'added' | 'removed' | 'changed';
  changed_fields: string[];
  values: Record<string, { before: string | null; after: string | null }>;
  previous_run: string | null;
  current_run: string;
  previous_key: string | null;
  current_key: string;
}

describe('change history, run locally against a simulator whose data changes', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ dataset: { workloads: 2_000, labels: 60 } });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function rowsOf(output: ExportOutput): Promise<ChangeRow[]> {
    const key = output.changes?.key;
    if (key === undefined) throw new Error('the run wrote no changes');
    return gunzipSync(await h.getObject(key))
      .toString('utf8')
      .trim()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as ChangeRow);
  }

  it.each([
    ['ndjson', 'wl-ndjson'],
    ['parquet', 'wl-parquet'],
    ['raw', 'wl-raw'],
  ] as const)(
    'writes, from %s runs, one row per href the simulator added, removed or changed',
    async (format, name) => {
      h.simulator.setRevision(0);
      const input = {
        exportName: name,
        path: '/workloads',
        format,
        changes: { fields: ['managed', 'name'] },
      };
      const first = succeeded<ExportOutput>(await h.run(input));
      h.simulator.setRevision(1);
      const second = succeeded<ExportOutput>(await h.run(input));

      const expected = h.simulator.changes(0, 1).workloads;
      if (!expected) throw new Error('the simulator reports no workload changes');
      const rows = await rowsOf(second);
      const hrefs = (change: ChangeRow['change']) =>
        rows
          .filter((row) => row.change === change)
          .map((row) => row.href)
          .sort();
      expect(first.changes).toEqual(
        expect.objectContaining({ fields: ['managed', 'name'], added: 0, removed: 0 }),
      );
      expect(first.changes?.key).toBeUndefined();
      expect(hrefs('added')).toEqual([...expected.added].sort());
      expect(hrefs('removed')).toEqual([...expected.removed].sort());
      expect(hrefs('changed')).toEqual([...expected.changed].sort());
      expect(second.changes).toMatchObject({
        added: expected.added.length,
        removed: expected.removed.length,
        changed: expected.changed.length,
      });
      expect(second.changes?.key).toMatch(
        new RegExp(`^pce/${name}/_changes/dt=\\d{4}-\\d{2}-\\d{2}/\\d{6}Z_.+\\.ndjson\\.gz$`),
      );
      expect(rows.every((row) => row.current_key === second.key && row.previous_key === first.key)).toBe(
        true,
      );
    },
  );

  it('names the changed top-level fields and gives the watched fields before and after', async () => {
    h.simulator.setRevision(0);
    const input = {
      exportName: 'wl-fields',
      path: '/workloads',
      changes: { fields: ['managed', 'enforcement_mode'] },
    };
    succeeded<ExportOutput>(await h.run(input));
    h.simulator.setRevision(1);
    const rows = await rowsOf(succeeded<ExportOutput>(await h.run(input)));

    const unpaired = rows.filter(
      (row) => row.values.managed?.before === 'true' && row.values.managed.after === 'false',
    );
    expect(unpaired.length).toBeGreaterThan(0);
    for (const row of unpaired) {
      expect(row.change).toBe('changed');
      expect(row.changed_fields).toEqual(expect.arrayContaining(['managed', 'updated_at']));
      expect(row.changed_fields).toEqual([...row.changed_fields].sort());
    }
    const added = rows.find((row) => row.change === 'added');
    expect(added?.changed_fields).toEqual([]);
    expect(added?.values.managed).toEqual({ before: null, after: expect.stringMatching(/^(true|false)$/) });
    const removed = rows.find((row) => row.change === 'removed');
    expect(removed?.values.managed).toEqual({ before: expect.stringMatching(/^(true|false)$/), after: null });
  });

  it('compares each run with the previous successful one: an unchanged PCE gives no rows', async () => {
    h.simulator.setRevision(2);
    const input = { exportName: 'wl-same', path: '/workloads', changes: true };
    succeeded<ExportOutput>(await h.run(input));
    const again = succeeded<ExportOutput>(await h.run(input));

    expect(again.changes).toMatchObject({ fields: [], added: 0, removed: 0, changed: 0 });
    expect(await rowsOf(again)).toEqual([]);
  });

  it('keeps memory bounded by sorting through /tmp: the result is the same with a tiny sort batch', async () => {
    const { writeChangeHistory } = await import('../../lambdas/export/changes/history');
    h.simulator.setRevision(0);
    const input = { exportName: 'wl-spill', path: '/workloads', format: 'ndjson' as const };
    const first = succeeded<ExportOutput>(await h.run(input));
    h.simulator.setRevision(1);
    const second = succeeded<ExportOutput>(await h.run(input));
    const logger = { debug() {}, info() {}, warn() {}, error() {} };
    const deps = { s3: h.s3, storage: { bucket: 'exports', prefix: 'pce/' }, logger, sortBatchChars: 20_000 };

    await writeChangeHistory(first, { fields: [] }, deps);
    const summary = await writeChangeHistory(second, { fields: [] }, deps);

    const expected = h.simulator.changes(0, 1).workloads;
    expect(summary).toMatchObject({
      added: expected?.added.length,
      removed: expected?.removed.length,
      changed: expected?.changed.length,
    });
  });
});
