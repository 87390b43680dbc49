import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  cacheDirectory,
  cached,
  definitionCacheKey,
  loadLocalDefinition,
} from '../../local/definition-cache';
import { prepareDefinition } from '../../local/prepare';
import { type AslDefinition, REPO_ROOT } from '../../local/stack';
import { isValidated } from '../../local/validated';

/** A small repository: the synth module imports lib/, which imports lambdas/ (not all of it). */
const FILES: Readonly<Record<string, string>> = {
  'cdk.json': '{"context":{"flag":true}}',
  'package-lock.json': '{"lockfileVersion":3}',
  'local/definition.ts': "import { stack } from '../lib/stack';\nexport const x = stack;",
  'lib/stack.ts': "import { limit } from '../lambdas/contracts/limits';\nexport const stack = limit;",
  'lib/other.ts': 'export const other = 1;',
  'lambdas/contracts/limits.ts': "export { base as limit } from './base.js';",
  'lambdas/contracts/base.ts': 'export const base = 1;',
  'lambdas/handlers/unused.ts': 'export const unused = 1;',
};

describe('the definition cache key', () => {
  let root: string;
  const key = (config: unknown = { a: 1 }) =>
    definitionCacheKey(config, root, [join(root, 'local/definition.ts')]);
  const write = (file: string, content: string) => {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), content);
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'pce-export-cache-'));
    for (const [file, content] of Object.entries(FILES)) write(file, content);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('is the same for the same configuration and sources', () => {
    expect(key()).toBe(key());
  });

  it.each([
    ['the deploy configuration', () => undefined, { a: 2 }],
    ['cdk.json', () => write('cdk.json', '{"context":{"flag":false}}'), undefined],
    ['package-lock.json', () => write('package-lock.json', '{"lockfileVersion":3,"x":1}'), undefined],
    ['a file of lib/', () => write('lib/other.ts', 'export const other = 2;'), undefined],
    [
      'a lambdas/ module lib imports, transitively',
      () => write('lambdas/contracts/base.ts', 'export const base = 2;'),
      undefined,
    ],
    [
      'the synthesizing module',
      () => write('local/definition.ts', "import { stack } from '../lib/stack';"),
      undefined,
    ],
  ])('changes when %s changes', (_, change, config) => {
    const before = key();

    change();

    expect(key(config ?? { a: 1 })).not.toBe(before);
  });

  it('stays the same when a file nothing imports changes', () => {
    const before = key();

    write('lambdas/handlers/unused.ts', 'export const unused = 2;');
    write('README.md', 'changed');

    expect(key()).toBe(before);
  });
});

describe('the definition cache', () => {
  let directory: string;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'pce-export-cache-dir-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('produces a value once per key and reads it back after', () => {
    const produce = vi.fn(() => ({ made: 1 }));

    const first = cached(directory, 'a'.repeat(64), produce);
    const second = cached(directory, 'a'.repeat(64), produce);

    expect(second).toEqual(first);
    expect(produce).toHaveBeenCalledTimes(1);
  });

  it('never answers a key with the value of another (a stale entry is a miss)', () => {
    cached(directory, 'a'.repeat(64), () => ({ version: 'old' }));

    const value = cached(directory, 'b'.repeat(64), () => ({ version: 'new' }));

    expect(value).toEqual({ version: 'new' });
  });

  it('produces again when an entry cannot be read, and leaves no temporary file behind', () => {
    writeFileSync(join(directory, `definition-${'c'.repeat(64)}.json`), '{"key": "c", "val');

    const value = cached(directory, 'c'.repeat(64), () => ({ fresh: true }));

    expect(value).toEqual({ fresh: true });
    expect(readdirSync(directory)).toEqual([`definition-${'c'.repeat(64)}.json`]);
  });

  it('lives under $XDG_CACHE_HOME when it is set, else in node_modules/.cache', () => {
    expect(cacheDirectory('/repo', { XDG_CACHE_HOME: '/home/u/.cache' })).toBe('/home/u/.cache/pce-export');
    expect(cacheDirectory('/repo', {})).toBe('/repo/node_modules/.cache/pce-export');
  });

  it('serves the synthesized definition of the stack from the cache on the second load', async () => {
    vi.stubEnv('XDG_CACHE_HOME', directory);

    const first = await loadLocalDefinition();
    const entries = readdirSync(join(directory, 'pce-export'));
    const second = await loadLocalDefinition();

    expect(entries).toHaveLength(1);
    expect(second).toEqual(first);
    expect(Object.keys(second.stateMachines)).toContain('PceExportWorkflow');
    expect(cacheDirectory(REPO_ROOT)).toBe(join(directory, 'pce-export'));
    vi.unstubAllEnvs();
  });

  it('validates the definitions before it caches them, so a run from the cache skips that step', async () => {
    vi.stubEnv('XDG_CACHE_HOME', directory);

    await loadLocalDefinition();
    const fromCache = await loadLocalDefinition();

    expect(isValidated(fromCache.definition)).toBe(true);
    for (const machine of Object.values(fromCache.stateMachines)) {
      expect(isValidated(machine.definition)).toBe(true);
    }
    vi.unstubAllEnvs();
  });

  it('still validates every definition that does not come from the cache', () => {
    const invalid = {
      StartAt: 'Missing',
      States: { Only: { Type: 'Pass', End: true } },
    } as unknown as AslDefinition;

    expect(isValidated(invalid)).toBe(false);
    expect(() => prepareDefinition(invalid)).toThrow();
    expect(isValidated(invalid)).toBe(false);
  });
});
