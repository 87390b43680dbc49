import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { ExportOutput } from '../../lambdas/contracts/output';
import { type RunningSimulator, startSimulator } from '../../simulator/index';
import { type Duck, openDuck, sqlString } from './duckdb';

/*
 * The README's "Querying with Athena" section, run in DuckDB against what `pce-export run --out
 * DIR` wrote (laid out as in S3). The section holds, in this order: a DuckDB block that defines
 * the tables and views the stack defines in Glue (its first line `-- DuckDB`), then queries. A
 * query is an `sql` block (Athena's form); an `sql` block right after it whose first line is
 * `-- DuckDB` is DuckDB's form of the same query, where the two dialects differ; the `text`
 * block after them is what DuckDB printed. `-- Athena only` blocks are not run.
 *
 * The data: a simulator of fixed seed and size whose traffic ends at a fixed time, exported
 * into one directory as a user would (`fixture`). Run this file (`npm run readme-queries`) to
 * rewrite the shown outputs; the README test fails when they no longer match.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/pce-export.mjs');
export const README = join(ROOT, 'README.md');
const SECTION = '## Querying with Athena';
const execute = promisify(execFile);

export const DATASET = { workloads: 400, labels: 40 } as const;
/** The end of the simulated traffic and the window exported, fixed so that every run sees the same flows. */
const TRAFFIC = { until: '2026-11-20T00:00:00.000Z', flowsPerDay: 2_000, days: 2 } as const;
export const TRAFFIC_WINDOW = { start: '2026-11-19T00:00:00Z', end: '2026-11-19T06:00:00Z' } as const;
const CHANGE_FIELDS = ['managed', 'enforcement_mode'];

export interface Fixture {
  readonly simulator: RunningSimulator;
  /** The directory the runs wrote to. */
  readonly dir: string;
  /** The outputs of the runs, by name: labels, workloads-1, workloads-2, traffic, traffic-raw. */
  readonly outputs: Readonly<Record<string, ExportOutput & { localPath: string }>>;
  close(): Promise<void>;
}

/**
 * Labels, workloads (with their change history) and traffic flows exported as Parquet into one
 * directory, then the simulator's revision 1 and the workloads again; the traffic window also as
 * raw, the PCE's bytes, to check the queries against.
 */
export async function fixture(): Promise<Fixture> {
  const simulator = await startSimulator({
    jobDurationMs: 300,
    retryAfterSeconds: 1,
    dataset: DATASET,
    traffic: TRAFFIC,
  });
  const dir = await mkdtemp(join(tmpdir(), 'pce-export-athena-'));
  const run = async (input: Record<string, unknown>) => {
    const file = join(dir, '..', `${dir.split('/').pop()}-input.json`);
    await writeFile(file, JSON.stringify(input));
    try {
      const result = await execute(
        process.execPath,
        [BIN, 'run', '--pce-url', simulator.url, '--org', '1', '--input-json', file, '--out', dir],
        {
          env: {
            ...process.env,
            PCE_API_KEY: simulator.credentials.apiKey,
            PCE_API_SECRET: simulator.credentials.apiSecret,
          },
          maxBuffer: 16 * 1024 * 1024,
        },
      );
      return JSON.parse(result.stdout.trim()) as ExportOutput & { localPath: string };
    } finally {
      await rm(file, { force: true });
    }
  };
  const workloads = {
    exportName: 'workloads',
    path: '/workloads',
    format: 'parquet',
    changes: { fields: CHANGE_FIELDS },
  };
  const traffic = { kind: 'traffic', traffic: TRAFFIC_WINDOW };
  try {
    const outputs: Record<string, ExportOutput & { localPath: string }> = {};
    outputs.labels = await run({ exportName: 'labels', path: '/labels', format: 'parquet' });
    outputs.traffic = await run({ ...traffic, exportName: 'traffic', format: 'parquet' });
    outputs['traffic-raw'] = await run({ ...traffic, exportName: 'traffic-raw', format: 'raw', gzip: false });
    outputs['workloads-1'] = await run(workloads);
    simulator.setRevision(1);
    outputs['workloads-2'] = await run(workloads);
    return {
      simulator,
      dir,
      outputs,
      async close() {
        await simulator.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await simulator.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** One query of the README's section. */
export interface ShownQuery {
  /** Line of its first block in the README. */
  readonly line: number;
  readonly athena: string;
  /** DuckDB's form, where it differs. */
  readonly duckdb?: string;
  /** What the README shows DuckDB printed; undefined when it shows nothing yet. */
  readonly shown?: string;
  /** The text block's lines in the README (start, end exclusive), for rewriting it. */
  readonly shownAt?: { readonly start: number; readonly end: number };
}

interface Fenced {
  readonly lang: string;
  /** Line of the opening fence, 0-based. */
  readonly open: number;
  readonly close: number;
  readonly text: string;
}

function fenced(lines: readonly string[], from: number, to: number): Fenced[] {
  const blocks: Fenced[] = [];
  for (let i = from; i < to; i++) {
    const fence = /^```(\S*)\s*$/.exec(lines[i] ?? '');
    if (!fence) continue;
    let end = i + 1;
    while (end < to && !/^```\s*$/.test(lines[end] ?? '')) end++;
    blocks.push({ lang: fence[1] ?? '', open: i, close: end, text: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

const isDuckdb = (block: Fenced | undefined) => block?.lang === 'sql' && block.text.startsWith('-- DuckDB');

/** The section's DuckDB definitions and its queries. */
export function readmeQueries(readme: string): { setup: string; queries: ShownQuery[] } {
  const lines = readme.split('\n');
  const start = lines.indexOf(SECTION);
  if (start < 0) throw new Error(`the README has no "${SECTION}" section`);
  let end = lines.findIndex((line, i) => i > start && line.startsWith('## '));
  if (end < 0) end = lines.length;
  const blocks = fenced(lines, start, end);
  const setupBlock = blocks.find(isDuckdb);
  if (!setupBlock) throw new Error('the section has no DuckDB block defining the tables');
  const queries: ShownQuery[] = [];
  for (let i = blocks.indexOf(setupBlock) + 1; i < blocks.length; i++) {
    const block = blocks[i] as Fenced;
    if (block.lang !== 'sql' || block.text.startsWith('-- Athena only')) continue;
    const duck = isDuckdb(blocks[i + 1]) ? blocks[++i] : undefined;
    const text = blocks[i + 1]?.lang === 'text' ? blocks[++i] : undefined;
    queries.push({
      line: block.open + 1,
      athena: block.text,
      ...(duck ? { duckdb: duck.text } : {}),
      ...(text ? { shown: text.text, shownAt: { start: text.open + 1, end: text.close } } : {}),
    });
  }
  return { setup: setupBlock.text, queries };
}

/** A DuckDB that reads `dir` as the README's DuckDB block defines it. */
export async function duckOver(dir: string, setup: string): Promise<Duck> {
  const duck = await openDuck();
  await duck.rows(`SET file_search_path = ${sqlString(dir)}`);
  for (const statement of statements(setup)) await duck.rows(statement);
  return duck;
}

/** The statements of a block, without its comments. */
function statements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .split(/;\s*(?:\n|$)/)
    .map((statement) => statement.trim())
    .filter((statement) => statement !== '');
}

/** Runs a query of the README (DuckDB's form where there is one). */
export function runQuery(duck: Duck, query: ShownQuery): Promise<Record<string, unknown>[]> {
  const [statement] = statements(query.duckdb ?? query.athena);
  if (statement === undefined) throw new Error(`the query at line ${query.line} is empty`);
  return duck.rows(statement);
}

/** Rows as the README shows them: a header, a rule, one line per row, columns padded. */
export function renderRows(rows: readonly Record<string, unknown>[]): string {
  const names = Object.keys(rows[0] ?? {});
  const cell = (value: unknown) =>
    value === null || value === undefined
      ? 'NULL'
      : typeof value === 'string'
        ? value
        : JSON.stringify(value);
  const table = [names, ...rows.map((row) => names.map((name) => cell(row[name])))];
  const widths = names.map((_, i) => Math.max(...table.map((line) => (line[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((text, i) => text.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(names), line(widths.map((width) => '-'.repeat(width))), ...table.slice(1).map(line)].join(
    '\n',
  );
}

/** Writes what DuckDB printed for each query into the README. */
async function rewriteReadme(): Promise<void> {
  const data = await fixture();
  try {
    const readme = await readFile(README, 'utf8');
    const { setup, queries } = readmeQueries(readme);
    const duck = await duckOver(data.dir, setup);
    const lines = readme.split('\n');
    try {
      // From the end, so that the line numbers of the earlier blocks stay right.
      for (const query of [...queries].reverse()) {
        const shown = renderRows(await runQuery(duck, query)).split('\n');
        if (query.shownAt)
          lines.splice(query.shownAt.start, query.shownAt.end - query.shownAt.start, ...shown);
        else throw new Error(`the query at line ${query.line} has no text block for its output`);
      }
    } finally {
      duck.close();
    }
    await writeFile(README, lines.join('\n'));
  } finally {
    await data.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  rewriteReadme().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
