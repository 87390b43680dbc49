import { describe, expect, it } from 'vitest';
import {
  COLLECTION_COLUMNS,
  columnsFor,
  GENERIC_COLUMNS,
  TRAFFIC_COLUMNS,
  tableNameFor,
} from '../../lib/glue';
import { DEFAULT_DATASET, OrgData } from '../../simulator/data';
import { FlowGenerator, parseTrafficQuery } from '../../simulator/traffic';

/**
 * The Glue column types are checked against the objects the simulator serves (modelled on the
 * PCE's), so that a type Athena could not read a field as (a string declared int, an object
 * declared string) fails here rather than in a query.
 */

type HiveType =
  | { kind: 'scalar'; name: string }
  | { kind: 'array'; items: HiveType }
  | { kind: 'struct'; fields: Record<string, HiveType> };

/** Parses `array<struct<a:int,b:array<string>>>` and the like. */
function parseHiveType(text: string): HiveType {
  let at = 0;
  const word = () => {
    const match = /^[a-z_0-9]+/.exec(text.slice(at));
    if (!match) throw new Error(`expected a name at ${at} in ${text}`);
    at += match[0].length;
    return match[0];
  };
  const expect = (char: string) => {
    if (text[at] !== char) throw new Error(`expected "${char}" at ${at} in ${text}`);
    at += 1;
  };
  const type = (): HiveType => {
    const name = word();
    if (name === 'array') {
      expect('<');
      const items = type();
      expect('>');
      return { kind: 'array', items };
    }
    if (name === 'struct') {
      expect('<');
      const fields: Record<string, HiveType> = {};
      for (;;) {
        const field = word();
        expect(':');
        fields[field] = type();
        if (text[at] === ',') {
          at += 1;
          continue;
        }
        expect('>');
        return { kind: 'struct', fields };
      }
    }
    return { kind: 'scalar', name };
  };
  const parsed = type();
  if (at !== text.length) throw new Error(`trailing text at ${at} in ${text}`);
  return parsed;
}

/** Where a JSON value does not fit a Hive type (null fits every type). */
function mismatches(value: unknown, type: HiveType, path: string): string[] {
  if (value === null || value === undefined) return [];
  switch (type.kind) {
    case 'array':
      return Array.isArray(value)
        ? value.flatMap((item, index) => mismatches(item, type.items, `${path}[${index}]`))
        : [`${path} is not an array`];
    case 'struct':
      if (typeof value !== 'object' || Array.isArray(value)) return [`${path} is not an object`];
      return Object.entries(type.fields).flatMap(([field, fieldType]) =>
        mismatches((value as Record<string, unknown>)[field], fieldType, `${path}.${field}`),
      );
    case 'scalar':
      switch (type.name) {
        case 'string':
          return typeof value === 'string' ? [] : [`${path} is ${JSON.stringify(value)}, not a string`];
        case 'boolean':
          return typeof value === 'boolean' ? [] : [`${path} is ${JSON.stringify(value)}, not a boolean`];
        case 'int':
          return Number.isInteger(value) && Math.abs(value as number) < 2 ** 31
            ? []
            : [`${path} is ${JSON.stringify(value)}, not an int`];
        case 'bigint':
          return Number.isInteger(value) ? [] : [`${path} is ${JSON.stringify(value)}, not a bigint`];
        default:
          return [`${path} has a type the test does not know: ${type.name}`];
      }
  }
}

function rowMismatches(
  objects: readonly Record<string, unknown>[],
  columns: readonly (readonly [string, string])[],
) {
  return objects.flatMap((object, index) =>
    columns.flatMap(([name, type]) => mismatches(object[name], parseHiveType(type), `#${index}.${name}`)),
  );
}

const data = new OrgData(1, 42, { ...DEFAULT_DATASET, workloads: 300, labels: 60 });

function objects(path: string, count = 200): Record<string, unknown>[] {
  const collection = data.collection(path);
  if (!collection) throw new Error(`the simulator has no collection ${path}`);
  return Array.from({ length: Math.min(count, collection.size) }, (_, i) => collection.object(i));
}

describe('Glue table columns', () => {
  it.each([
    ['labels', 'labels'],
    ['workloads', 'workloads'],
    ['rule_sets', 'sec_policy/active/rule_sets'],
    ['services', 'sec_policy/draft/services'],
    ['ip_lists', 'sec_policy/active/ip_lists'],
    ['label_groups', 'sec_policy/active/label_groups'],
  ])('read the %s objects the PCE serves with the declared types', (collection, path) => {
    const columns = COLLECTION_COLUMNS[collection] ?? [];
    const rows = objects(path);

    expect(columns.length).toBeGreaterThan(3);
    expect(rows.length).toBeGreaterThan(0);
    expect(rowMismatches(rows, columns)).toEqual([]);
    expect(rows.every((row) => typeof row.href === 'string')).toBe(true);
  });

  it('read traffic flow records with the declared types', () => {
    const params = parseTrafficQuery({
      query_name: 'glue columns',
      start_date: '2026-03-01T00:00:00Z',
      end_date: '2026-03-02T00:00:00Z',
    });
    if (typeof params === 'string') throw new Error(params);
    const flows = new FlowGenerator(data, 42, params);
    const rows = Array.from({ length: 300 }, (_, i) => flows.flow(i));

    expect(rowMismatches(rows, TRAFFIC_COLUMNS)).toEqual([]);
    expect(rows.some((row) => (row.src as { workload?: unknown }).workload !== undefined)).toBe(true);
  });

  it('are picked by the last segment of the collection path, traffic by kind, anything else generically', () => {
    expect(columnsFor({ name: 'rs', kind: 'collection', path: '/sec_policy/draft/rule_sets' })).toBe(
      COLLECTION_COLUMNS.rule_sets,
    );
    expect(columnsFor({ name: 'flows', kind: 'traffic' })).toBe(TRAFFIC_COLUMNS);
    expect(columnsFor({ name: 'vens', kind: 'collection', path: '/vens' })).toBe(GENERIC_COLUMNS);
  });

  it('never declare a column twice in one table', () => {
    for (const columns of [...Object.values(COLLECTION_COLUMNS), GENERIC_COLUMNS, TRAFFIC_COLUMNS]) {
      const names = columns.map(([name]) => name);
      expect(new Set(names).size).toBe(names.length);
    }
  });

  it('catch a declared type that does not fit the data', () => {
    expect(rowMismatches([{ href: '/orgs/1/labels/1', key: 7 }], [['key', 'string']])).toEqual([
      '#0.key is 7, not a string',
    ]);
  });
});

describe('tableNameFor', () => {
  it('lowercases and turns "-" into "_"', () => {
    expect(tableNameFor('Rule-Sets')).toBe('rule_sets');
  });
});
