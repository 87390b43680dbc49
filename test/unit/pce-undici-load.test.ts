import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BuildOptions, build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * The transport imports undici on first use. A dynamic import of a CommonJS package answers
 * differently in each bundle that carries it: with named exports in the handlers' CommonJS
 * bundles, with the exports under `default` only in the command line's ES module bundle, which
 * splits at dynamic imports. Either way the transport must get undici's Agent and request.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const ENTRY = `
import { loadUndici } from './lambdas/pce/dispatcher.ts';
export async function probe() {
  const undici = await loadUndici();
  return { agent: typeof undici.Agent, proxyAgent: typeof undici.EnvHttpProxyAgent, request: typeof undici.request };
}
`;
const SETTINGS: BuildOptions = {
  stdin: { contents: ENTRY, loader: 'ts', resolveDir: ROOT, sourcefile: 'probe.ts' },
  absWorkingDir: ROOT,
  bundle: true,
  platform: 'node',
  mainFields: ['module', 'main'],
  logLevel: 'silent',
};

interface Probe {
  probe(): Promise<Record<string, string>>;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pce-export-undici-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('undici loaded on first use', () => {
  it('gives the transport Agent, EnvHttpProxyAgent and request in a handler bundle (CommonJS, as lib/lambda-defaults.ts)', async () => {
    const outfile = join(dir, 'handler', 'index.js');
    await build({ ...SETTINGS, format: 'cjs', target: 'node24', minify: true, outfile });

    const { probe } = createRequire(import.meta.url)(outfile) as Probe;

    expect(await probe()).toEqual({ agent: 'function', proxyAgent: 'function', request: 'function' });
  });

  it("gives the transport Agent, EnvHttpProxyAgent and request in the command line's split ES module bundle", async () => {
    const outdir = join(dir, 'cli');
    await build({
      ...SETTINGS,
      format: 'esm',
      target: 'node20',
      splitting: true,
      outdir,
      entryNames: 'main',
      outExtension: { '.js': '.mjs' },
      // As bin/cli-bundle.mjs: CommonJS packages in an ES module still call require().
      banner: {
        js: "import { createRequire as __pceCreateRequire } from 'node:module'; const require = __pceCreateRequire(import.meta.url);",
      },
    });

    const { probe } = (await import(pathToFileURL(join(outdir, 'main.mjs')).href)) as Probe;

    expect(await probe()).toEqual({ agent: 'function', proxyAgent: 'function', request: 'function' });
  });
});
