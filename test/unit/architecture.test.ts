import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/*
 * The shape docs/architecture.md describes: imports run down the floors only, and no
 * production file grows past 400 lines.
 */

const ROOT = resolve(import.meta.dirname, '..', '..');
const FLOORS = ['contracts', 'pce', 'export', 'handlers'] as const;

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

/** Every module a file imports (static, dynamic and type-only), resolved relative to the repository. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((match) => match[1] ?? '');
  return specifiers.map((specifier) =>
    specifier.startsWith('.') ? relative(ROOT, resolve(ROOT, file, '..', specifier)) : specifier,
  );
}

const floorOf = (path: string) => FLOORS.findIndex((floor) => path.startsWith(`lambdas/${floor}/`));

describe('the floors of lambdas/', () => {
  const files = sources('lambdas');

  it.each(files.filter((file) => floorOf(file) >= 0))('%s imports nothing from a higher floor', (file) => {
    const upward = importsOf(file).filter((target) => floorOf(target) > floorOf(file));
    expect(upward).toEqual([]);
  });

  it.each(files)('%s imports nothing from the folders above lambdas/', (file) => {
    const above = importsOf(file).filter((target) =>
      /^(bin|lib|schema|local|cli|simulator|bench|test)\//.test(target),
    );
    expect(above).toEqual([]);
  });

  it.each(files.filter((file) => file.startsWith('lambdas/contracts/')))(
    '%s imports only zod, Node.js built-ins and other contracts',
    (file) => {
      const others = importsOf(file).filter(
        (target) =>
          target !== 'zod' && !target.startsWith('node:') && !target.startsWith('lambdas/contracts/'),
      );
      expect(others).toEqual([]);
    },
  );
});

describe('schema/index.ts', () => {
  it('imports types only, so that importing it loads nothing', () => {
    const text = readFileSync(join(ROOT, 'schema', 'index.ts'), 'utf8');
    const imports = [...text.matchAll(/^import\s+(type\s+)?/gm)];

    expect(imports.length).toBeGreaterThan(0);
    expect(imports.every((match) => match[1] !== undefined)).toBe(true);
  });
});

describe('production files', () => {
  it.each([...sources('lambdas'), ...sources('lib'), ...sources('schema'), 'bin/app.ts'])(
    '%s has at most 400 lines',
    (file) => {
      expect(readFileSync(join(ROOT, file), 'utf8').split('\n').length).toBeLessThanOrEqual(401);
    },
  );
});
