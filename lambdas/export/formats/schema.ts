/*
 * One description of a table's columns, from which the Parquet schema, the Glue column types
 * (for Parquet and for ndjson) and the conversion of a PCE object into a row are all derived,
 * so that the three cannot drift apart.
 *
 * A row keeps every field of its object: a field with no column, and a field whose value does
 * not fit its column exactly (an undeclared nested key, a string where a number was declared, a
 * time with other than millisecond precision), goes into `extra_json` as it arrived, under its
 * own name. Its column still gets what fits (null where nothing does). Reading a row back is
 * the columns overlaid with `extra_json`; only the difference between a null and a missing
 * field is lost.
 */

/** A column's type. `json` is any JSON value, stored as its JSON text. */
export type FieldType =
  | { readonly kind: 'string' | 'boolean' | 'int' | 'bigint' | 'double' | 'timestamp' | 'json' }
  | { readonly kind: 'list'; readonly items: FieldType }
  | { readonly kind: 'struct'; readonly fields: Fields }
  | { readonly kind: 'map'; readonly values: FieldType };

/** Named fields in column order. */
export type Fields = Readonly<Record<string, FieldType>>;

export const string: FieldType = { kind: 'string' };
export const boolean: FieldType = { kind: 'boolean' };
/** A 32-bit signed integer (ports, protocols, counts that stay small). */
export const int: FieldType = { kind: 'int' };
/** A 64-bit signed integer (byte and connection counts). */
export const bigint: FieldType = { kind: 'bigint' };
/** An ISO 8601 time, stored as milliseconds since the epoch (UTC). */
export const timestamp: FieldType = { kind: 'timestamp' };
export const json: FieldType = { kind: 'json' };
export const list = (items: FieldType): FieldType => ({ kind: 'list', items });
export const struct = (fields: Fields): FieldType => ({ kind: 'struct', fields });
/** An object whose keys are data (field names of a change, say), with values of one type. */
export const map = (values: FieldType): FieldType => ({ kind: 'map', values });

/** The column that holds, as JSON text, every field that has no column or does not fit it. */
export const EXTRA_COLUMN = 'extra_json';

/** Which catalog dialect a type is written for. */
export type Dialect = 'parquet' | 'ndjson';

/**
 * The Glue (Hive) type of a field. For ndjson (the OpenX JSON SerDe) times stay strings, as the
 * PCE writes them, and `json` fields have no type the SerDe could read, so they are left out
 * (`undefined`); they are still in the objects.
 */
function hiveType(type: FieldType, dialect: Dialect): string | undefined {
  switch (type.kind) {
    case 'string':
    case 'boolean':
    case 'int':
    case 'bigint':
    case 'double':
      return type.kind;
    case 'timestamp':
      return dialect === 'parquet' ? 'timestamp' : 'string';
    case 'json':
      return dialect === 'parquet' ? 'string' : undefined;
    case 'list': {
      const items = hiveType(type.items, dialect);
      return items === undefined ? undefined : `array<${items}>`;
    }
    case 'map': {
      const values = hiveType(type.values, dialect);
      return values === undefined ? undefined : `map<string,${values}>`;
    }
    case 'struct': {
      const members = Object.entries(type.fields).flatMap(([name, field]) => {
        const member = hiveType(field, dialect);
        return member === undefined ? [] : [`${name}:${member}`];
      });
      return members.length === 0 ? undefined : `struct<${members.join(',')}>`;
    }
  }
}

/** A table's columns as Glue takes them: `[name, type]`, plus `extra_json` for Parquet. */
export function hiveColumns(columns: Fields, dialect: Dialect): (readonly [string, string])[] {
  const typed = Object.entries(columns).flatMap(([name, field]) => {
    const type = hiveType(field, dialect);
    return type === undefined ? [] : [[name, type] as const];
  });
  return dialect === 'parquet' ? [...typed, [EXTRA_COLUMN, 'string'] as const] : typed;
}

/** The parts of a Parquet schema element this module writes (hyparquet's `SchemaElement`). */
export interface ParquetElement {
  name: string;
  type?: 'BOOLEAN' | 'INT32' | 'INT64' | 'DOUBLE' | 'BYTE_ARRAY';
  repetition_type?: 'REQUIRED' | 'OPTIONAL' | 'REPEATED';
  converted_type?: 'UTF8' | 'TIMESTAMP_MILLIS' | 'LIST' | 'MAP';
  num_children?: number;
}

function leaf(name: string, type: FieldType): ParquetElement | undefined {
  const optional = 'OPTIONAL' as const;
  switch (type.kind) {
    case 'string':
    case 'json':
      return { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: optional };
    case 'boolean':
      return { name, type: 'BOOLEAN', repetition_type: optional };
    case 'int':
      return { name, type: 'INT32', repetition_type: optional };
    case 'bigint':
      return { name, type: 'INT64', repetition_type: optional };
    case 'double':
      return { name, type: 'DOUBLE', repetition_type: optional };
    case 'timestamp':
      return { name, type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type: optional };
    default:
      return undefined;
  }
}

/** The elements of one field, depth first (lists and maps in the three-level form the spec asks for). */
function elements(name: string, type: FieldType): ParquetElement[] {
  const scalar = leaf(name, type);
  if (scalar) return [scalar];
  switch (type.kind) {
    case 'list':
      return [
        { name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        ...elements('element', type.items),
      ];
    case 'map':
      return [
        { name, repetition_type: 'OPTIONAL', converted_type: 'MAP', num_children: 1 },
        { name: 'key_value', repetition_type: 'REPEATED', num_children: 2 },
        { name: 'key', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
        ...elements('value', type.values),
      ];
    case 'struct': {
      const children = Object.entries(type.fields);
      return [
        { name, repetition_type: 'OPTIONAL', num_children: children.length },
        ...children.flatMap(([child, field]) => elements(child, field)),
      ];
    }
    default:
      throw new Error(`no Parquet type for ${type.kind}`);
  }
}

/** The Parquet schema of a table: a root, every column, then `extra_json`. */
export function parquetSchema(columns: Fields): ParquetElement[] {
  const names = Object.keys(columns);
  return [
    { name: 'root', num_children: names.length + 1 },
    ...names.flatMap((name) => elements(name, columns[name] as FieldType)),
    ...elements(EXTRA_COLUMN, string),
  ];
}

/**
 * Converts one value to its column's representation. Sets `fit.exact = false` when the value
 * does not fit exactly (the caller then keeps the original in `extra_json`).
 */
type Convert = (value: unknown, fit: { exact: boolean }) => unknown;

/** `2026-11-28T19:32:39.624Z`: the form that survives milliseconds since the epoch unchanged. */
const ISO_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function compile(type: FieldType): Convert {
  const miss = (value: unknown, fit: { exact: boolean }): null => {
    if (value !== null && value !== undefined) fit.exact = false;
    return null;
  };
  switch (type.kind) {
    case 'string':
      return (v, fit) => (typeof v === 'string' ? v : miss(v, fit));
    case 'boolean':
      return (v, fit) => (typeof v === 'boolean' ? v : miss(v, fit));
    case 'int':
      return (v, fit) =>
        typeof v === 'number' && Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX ? v : miss(v, fit);
    case 'bigint':
      return (v, fit) => (typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : miss(v, fit));
    case 'double':
      return (v, fit) => (typeof v === 'number' ? v : miss(v, fit));
    case 'json':
      return (v) => (v === null || v === undefined ? null : JSON.stringify(v));
    case 'timestamp':
      return (v, fit) => {
        if (typeof v !== 'string') return miss(v, fit);
        const millis = Date.parse(v);
        if (Number.isNaN(millis)) return miss(v, fit);
        if (!ISO_MILLIS.test(v)) fit.exact = false;
        return millis;
      };
    case 'list': {
      const item = compile(type.items);
      return (v, fit) => (Array.isArray(v) ? v.map((element) => item(element, fit)) : miss(v, fit));
    }
    case 'map': {
      const value = compile(type.values);
      return (v, fit) =>
        isObject(v) ? Object.keys(v).map((key) => ({ key, value: value(v[key], fit) })) : miss(v, fit);
    }
    case 'struct': {
      const fields = Object.entries(type.fields).map(([name, field]) => [name, compile(field)] as const);
      const declared = new Set(Object.keys(type.fields));
      return (v, fit) => {
        if (!isObject(v)) return miss(v, fit);
        const out: Record<string, unknown> = {};
        for (const [name, convert] of fields) out[name] = convert(v[name], fit);
        if (fit.exact) {
          for (const key of Object.keys(v)) {
            if (!declared.has(key)) {
              fit.exact = false;
              break;
            }
          }
        }
        return out;
      };
    }
  }
}

/** A row: one value per column, `extra_json` last. */
export type Row = Record<string, unknown>;

/** Builds the function that turns a PCE object into a row of `columns` (see the top of this file). */
export function rowConverter(columns: Fields): (object: unknown) => Row {
  const converters = Object.entries(columns).map(([name, field]) => [name, compile(field)] as const);
  const declared = new Set(Object.keys(columns));
  return (object) => {
    const row: Row = {};
    if (!isObject(object)) {
      for (const [name] of converters) row[name] = null;
      row[EXTRA_COLUMN] = JSON.stringify({ $value: object });
      return row;
    }
    let extra: Record<string, unknown> | undefined;
    const fit = { exact: true };
    for (const [name, convert] of converters) {
      fit.exact = true;
      const original = object[name];
      row[name] = convert(original, fit);
      if (!fit.exact) {
        extra ??= {};
        extra[name] = original;
      }
    }
    for (const key of Object.keys(object)) {
      if (declared.has(key)) continue;
      extra ??= {};
      extra[key] = object[key];
    }
    row[EXTRA_COLUMN] = extra === undefined ? null : JSON.stringify(extra);
    return row;
  };
}
