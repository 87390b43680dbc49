import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ExportOutput } from '../../lambdas/contracts/output';
import { BUCKET, type Harness, PREFIX, sha256, succeeded } from './harness';
import { eventLog, failed, startQuickHarness, taskRetries } from './reliability-support';

/*
 * Bad execution input is an ExportConfigError whose cause names the field, raised by Submit
 * before the secret is read or the PCE contacted. Runs of the same export, one after the other or
 * at once, each leave their own complete object and overwrite nothing.
 */

describe('execution input and repeated runs, through the locally run workflow', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startQuickHarness();
  });
  afterEach(() => h.reset());
  afterAll(async () => {
    await h?.close();
  });

  describe('bad input fails with ExportConfigError and sends nothing to the PCE', () => {
    it.each([
      [
        'an unknown field',
        { path: '/workloads', bucket: 'elsewhere' },
        /input has unknown field\(s\) bucket/,
      ],
      ['a misspelt field', { path: '/workloads', fromat: 'raw' }, /unknown field\(s\) fromat/],
      [
        'a path without a leading slash',
        { path: 'workloads' },
        /input\.path must be an org-relative collection path/,
      ],
      ['an org-scoped path', { path: '/orgs/1/workloads' }, /input\.path is relative to the org/],
      ['a job path', { path: '/orgs/1/jobs/abc' }, /input\.path/],
      ['an absolute URL as path', { path: 'https://evil.example/api/v2/orgs/1/workloads' }, /input\.path/],
      ['"?" in the path', { path: '/workloads?max_results=1' }, /input\.path/],
      ['"#" in the path', { path: '/workloads#x' }, /input\.path/],
      ['".." in the path', { path: '/workloads/..' }, /input\.path/],
      ['an encoded ".." in the path', { path: '/workloads/%2e%2e/users' }, /input\.path/],
      ['a trailing slash', { path: '/workloads/' }, /input\.path/],
      [
        '"?" in a query value',
        { path: '/workloads', query: { name: 'a?b=c' } },
        /input\.query\.name must not contain/,
      ],
      [
        '"#" in a query value',
        { path: '/workloads', query: { name: 'a#b' } },
        /input\.query\.name must not contain/,
      ],
      [
        '".." in a query value',
        { path: '/workloads', query: { labels: '/orgs/1/../2' } },
        /input\.query\.labels must not contain "\.\." path traversal/,
      ],
      [
        'a control character in a query value',
        { path: '/workloads', query: { name: 'a\nb' } },
        /input\.query\.name must not contain control characters/,
      ],
      [
        'an "&" smuggled into a query key',
        { path: '/workloads', query: { 'a&max_results': '1' } },
        /input\.query.*not a valid key/,
      ],
      [
        'an object as query value',
        { path: '/workloads', query: { name: { $ne: '' } } },
        /input\.query\.name/,
      ],
      ['an unknown format', { path: '/workloads', format: 'csv' }, /input\.format/],
      ['a zero maxWaitSeconds', { path: '/workloads', maxWaitSeconds: 0 }, /input\.maxWaitSeconds/],
      ['an export name that is a path', { exportName: '../../etc', path: '/workloads' }, /input\.exportName/],
      ['no path and no configured export', { exportName: 'nightly' }, /export "nightly" is not configured/],
      ['an array instead of an object', [{ path: '/workloads' }], /input must be a JSON object/],
    ])('when the input has %s', async (_, input, cause) => {
      const log = eventLog();

      const outcome = failed(await h.run(input, { onEvent: log.onEvent }));

      expect(outcome.error).toBe('ExportConfigError');
      expect(outcome.cause).toMatch(cause);
      expect(h.simulator.requests).toEqual([]);
      expect(taskRetries(log.events)).toBe(0);
    });
  });

  describe('the same export, run more than once', () => {
    async function expectComplete(output: ExportOutput) {
      const stored = await h.getObject(output.key);
      const manifest = JSON.parse((await h.getObject(output.manifestKey)).toString('utf8'));
      expect(stored.length).toBe(output.bytes);
      expect(sha256(stored)).toBe(output.sha256);
      expect(manifest).toMatchObject({ key: output.key, sha256: output.sha256, bytes: output.bytes });
      expect((await h.tags(output.key)).sha256).toBe(output.sha256);
    }

    it('keeps the first object intact when the export runs again', async () => {
      const input = { exportName: 'twice', path: '/workloads', format: 'raw', gzip: false };

      const first = succeeded<ExportOutput>(await h.run(input));
      const firstBytes = await h.getObject(first.key);
      const second = succeeded<ExportOutput>(await h.run(input));

      expect(second.key).not.toBe(first.key);
      expect(second.manifestKey).not.toBe(first.manifestKey);
      expect((await h.getObject(first.key)).equals(firstBytes)).toBe(true);
      await expectComplete(first);
      await expectComplete(second);
      expect(second.sha256).toBe(first.sha256);
      const latest = JSON.parse((await h.getObject(`${PREFIX}twice/latest.json`)).toString('utf8'));
      expect(latest.key).toBe(second.key);
    });

    it('stores three complete objects when three runs overlap, started a moment apart', async () => {
      const input = { exportName: 'overlap', path: '/workloads' };
      const delays = [0, 300, 700];

      const outcomes = await Promise.all(
        delays.map((ms) => new Promise((resolve) => setTimeout(resolve, ms)).then(() => h.run(input))),
      );

      const outputs = outcomes.map((outcome) => succeeded<ExportOutput>(outcome));
      expect(new Set(outputs.map((o) => o.key)).size).toBe(3);
      for (const output of outputs) await expectComplete(output);
      const stored = (await h.listKeys(`${PREFIX}overlap/`)).filter((key) => key.endsWith('.ndjson.gz'));
      expect(stored.sort()).toEqual(outputs.map((o) => o.key).sort());
      expect(await h.engine.s3?.listOpenUploads(BUCKET)).toEqual([]);
    });
  });
});
