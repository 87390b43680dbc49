import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  DATASET,
  duckOver,
  type Fixture,
  fixture,
  README,
  readmeQueries,
  renderRows,
  runQuery,
  type ShownQuery,
} from '../support/athena-readme';
import type { Duck } from '../support/duckdb';

// A loaded machine makes these tests slower, never wrong: they have no time limit.
vi.setConfig({ testTimeout: 0, hookTimeout: 0 });

/*
 * The README's Athena queries, run in DuckDB as the README writes them, over what
 * `pce-export run --out DIR` wrote (test/support/athena-readme.ts says how the section is read):
 * the output the README shows is what DuckDB returns, and what DuckDB returns is what the
 * simulator holds.
 */

interface Workload {
  href: string;
  managed?: boolean;
  online?: boolean;
  enforcement_mode?: string;
  labels?: { href: string }[];
}

describe("the README's Athena queries, run in DuckDB over the local output", () => {
  let data: Fixture;
  let duck: Duck;
  let queries: ShownQuery[];
  /** The simulator's workloads at revision 0 and 1, and its labels. */
  let before: Workload[];
  let after: Workload[];
  let labels: { href: string; key: string; value: string }[];

  async function collection<T>(path: string): Promise<T[]> {
    const { apiKey, apiSecret } = data.simulator.credentials;
    const response = await fetch(`${data.simulator.url}/api/v2/orgs/1${path}`, {
      headers: { authorization: `Basic ${Buffer.from(`${apiKey}:${apiSecret}`).toString('base64')}` },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as T[];
  }

  /** The query whose Athena form contains `text`, run. */
  async function rowsOf(text: string): Promise<Record<string, unknown>[]> {
    const query = queries.find((candidate) => candidate.athena.includes(text));
    if (!query) throw new Error(`the README has no query with ${text}`);
    return runQuery(duck, query);
  }

  beforeAll(async () => {
    data = await fixture();
    const section = readmeQueries(await readFile(README, 'utf8'));
    queries = section.queries;
    duck = await duckOver(data.dir, section.setup);
    data.simulator.setRevision(0);
    before = await collection<Workload>('/workloads');
    data.simulator.setRevision(1);
    after = await collection<Workload>('/workloads');
    labels = await collection('/labels');
  });
  afterAll(async () => {
    duck?.close();
    await data?.close();
  });

  it('shows, under each query, what DuckDB returns for it', async () => {
    expect(queries.length).toBeGreaterThanOrEqual(6);
    for (const query of queries) {
      const rendered = renderRows(await runQuery(duck, query));
      expect(query.shown, `the query at README line ${query.line}`).toBe(rendered);
    }
  });

  it('counts the workloads of the newest run, managed and online, as the simulator holds them', async () => {
    expect(await rowsOf('count_if(managed)')).toEqual([
      {
        workloads: String(after.length),
        managed: String(after.filter((w) => w.managed === true).length),
        online: String(after.filter((w) => w.online === true).length),
      },
    ]);
    expect(after.length).not.toBe(DATASET.workloads);
  });

  it("finds both of the day's runs in the table and the newest only in the view", async () => {
    expect(await rowsOf('count(DISTINCT "$path")')).toEqual([
      { runs: '2', workloads: String(before.length + after.length) },
    ]);
  });

  it('joins the workloads with their labels: workloads per env label', async () => {
    const env = new Map(labels.filter((l) => l.key === 'env').map((l) => [l.href, l.value]));
    const counts = new Map<string, number>();
    for (const workload of after) {
      for (const ref of workload.labels ?? []) {
        const value = env.get(ref.href);
        if (value !== undefined) counts.set(value, (counts.get(value) ?? 0) + 1);
      }
    }
    const expected = [...counts]
      .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
      .map(([value, workloads]) => ({ env: value, workloads: String(workloads) }));

    expect(expected.length).toBeGreaterThan(1);
    expect(await rowsOf("l.key = 'env'")).toEqual(expected);
  });

  it("sums traffic by port and protocol as the PCE's own bytes of the same window do", async () => {
    const raw = data.outputs['traffic-raw'];
    if (!raw) throw new Error('no raw traffic export');
    // A traffic run's folder: one raw object per window.
    const windows = (await readdir(raw.localPath)).filter((name) => name.endsWith('.json')).sort();
    expect(windows.length).toBeGreaterThan(0);
    const texts = await Promise.all(windows.map((name) => readFile(join(raw.localPath, name), 'utf8')));
    const flows = texts.flatMap((text) => JSON.parse(text) as unknown[]) as {
      service: { port?: number; proto: number };
      num_connections: number;
    }[];
    const byService = new Map<
      string,
      { port: number | null; proto: number; flows: number; connections: number }
    >();
    for (const flow of flows) {
      const port = flow.service.port ?? null;
      const id = `${port}/${flow.service.proto}`;
      const entry = byService.get(id) ?? { port, proto: flow.service.proto, flows: 0, connections: 0 };
      entry.flows += 1;
      entry.connections += flow.num_connections;
      byService.set(id, entry);
    }
    const expected = [...byService.values()]
      .sort(
        (a, b) =>
          b.connections - a.connections ||
          (a.port ?? Number.MAX_SAFE_INTEGER) - (b.port ?? Number.MAX_SAFE_INTEGER) ||
          a.proto - b.proto,
      )
      .slice(0, 5)
      .map((entry) => ({ ...entry, flows: String(entry.flows), connections: String(entry.connections) }));

    expect(flows.length).toBe(data.outputs.traffic?.objectCount);
    expect(await rowsOf('FROM pce.traffic_current')).toEqual(expected);
  });

  it('counts the hrefs the simulator added, removed and changed between the two runs', async () => {
    const changes = data.simulator.changes(0, 1).workloads;
    if (!changes) throw new Error('the simulator reports no workload changes');

    expect(await rowsOf('SELECT change, count(*)')).toEqual(
      [
        ['added', changes.added.length],
        ['changed', changes.changed.length],
        ['removed', changes.removed.length],
      ]
        .filter(([, count]) => count !== 0)
        .map(([change, count]) => ({ change, workloads: String(count) })),
    );
  });

  it('lists the workloads that were unpaired, with their enforcement mode before', async () => {
    const was = new Map(before.map((w) => [w.href, w]));
    const unpaired = after
      .filter((w) => w.managed === false && was.get(w.href)?.managed === true)
      .map((w) => w.href)
      .sort()
      .slice(0, 3);

    const rows = await rowsOf("contains(changed_fields, 'managed')");
    expect(unpaired.length).toBeGreaterThan(0);
    expect(rows.map((row) => row.href)).toEqual(unpaired);
    for (const row of rows) {
      expect(row.mode_before).toBe(JSON.stringify(was.get(String(row.href))?.enforcement_mode));
      expect(row.changed_fields).toEqual(expect.arrayContaining(['managed']));
    }
  });
});
