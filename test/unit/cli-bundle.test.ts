import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliBundle } from '../../bin/cli-bundle.mjs';

/** A project of the shape the bundle is built from, small enough to bundle in a test. */
let root: string;

function write(path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

async function mainOf(bundle: string): Promise<{ main: () => Promise<string>; here: string }> {
  return (await import(`${pathToFileURL(bundle).href}?${Date.now()}`)) as {
    main: () => Promise<string>;
    here: string;
  };
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'pce-export-bundle-'));
  write('package-lock.json', '{"lockfileVersion": 3}');
  write('tsconfig.json', '{}');
  write('cli/io.ts', 'export const processIo = { name: "io" };\n');
  write('cli/word.ts', "export const word: string = 'first';\n");
  write(
    'cli/main.ts',
    "import { word } from './word';\nexport const here = import.meta.dirname;\nexport async function main(): Promise<string> { return word; }\n",
  );
  write(
    'local/lambda.ts',
    'export const registered: string[] = [];\nexport function registerBundledHandlers(modules: Record<string, unknown>): void { registered.push(...Object.keys(modules)); }\n',
  );
  write('lambdas/handlers/step.ts', "export const handler = async (): Promise<string> => 'step';\n");
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('the command line bundle', () => {
  it('is built once and reused while nothing it was built from changes', async () => {
    const first = await cliBundle(root);
    const builtAt = statSync(first).mtimeMs;

    const second = await cliBundle(root);

    expect(second).toBe(first);
    expect(statSync(second).mtimeMs).toBe(builtAt);
    expect(await (await mainOf(first)).main()).toBe('first');
  });

  it('is rebuilt, never reused stale, when a source it was built from changes', async () => {
    const first = await cliBundle(root);
    write(
      'cli/word.ts',
      "import { suffix } from './suffix';\nexport const word: string = 'second' + suffix;\n",
    );
    write('cli/suffix.ts', "export const suffix = '!';\n");

    const second = await cliBundle(root);
    write('cli/suffix.ts', "export const suffix = '?';\n");
    const third = await cliBundle(root);

    expect(second).not.toBe(first);
    expect(await (await mainOf(second)).main()).toBe('second!');
    expect(third).not.toBe(second);
    expect(await (await mainOf(third)).main()).toBe('second?');
  });

  it('is rebuilt when the lock file changes', async () => {
    const first = await cliBundle(root);
    write('package-lock.json', '{"lockfileVersion": 3, "packages": {}}');

    expect(await cliBundle(root)).not.toBe(first);
  });

  it('is rebuilt, never reused stale, when a file of an installed package changes', async () => {
    write('node_modules/greeting/package.json', '{"name": "greeting", "type": "module", "main": "index.js"}');
    write('node_modules/greeting/index.js', "export const greeting = 'hello';\n");
    write(
      'cli/main.ts',
      "import { greeting } from 'greeting';\nexport async function main(): Promise<string> { return greeting; }\n",
    );
    const first = await cliBundle(root);
    write('node_modules/greeting/index.js', "export const greeting = 'hello again';\n");

    const second = await cliBundle(root);

    expect(await (await mainOf(first)).main()).toBe('hello');
    expect(second).not.toBe(first);
    expect(await (await mainOf(second)).main()).toBe('hello again');
    expect(await cliBundle(root)).toBe(second);
  });

  it('keeps the bundle another process built from the same sources, which may be loading it', async () => {
    const first = await cliBundle(root);
    const inode = statSync(first).ino;
    // As if a second process had found no bundle and built the same one meanwhile.
    rmSync(join(root, 'node_modules', '.cache', 'pce-export', 'cli.json'));

    const second = await cliBundle(root);

    expect(second).toBe(first);
    expect(statSync(second).ino).toBe(inode);
    expect(readdirSync(dirname(dirname(first))).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(await (await mainOf(second)).main()).toBe('first');
  });

  it('gives each source its own folder as import.meta.dirname, wherever the bundle lies', async () => {
    const bundle = await cliBundle(root);

    expect((await mainOf(bundle)).here).toBe(join(root, 'cli'));
    expect(dirname(bundle).startsWith(join(root, 'node_modules', '.cache', 'pce-export'))).toBe(true);
  });
});
