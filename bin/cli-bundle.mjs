// The command line's code, loaded without a TypeScript loader: esbuild bundles cli/main.ts (and the
// handler modules the local engine runs) into one ES module on first use, kept in
// node_modules/.cache/pce-export beside the packages it imports. The bundle is used only while
// every source file it was built from, the lock file, the TypeScript configuration and this file
// are byte for byte what they were: a stale bundle is never run. PCE_EXPORT_BUNDLE=off loads the
// sources through tsx instead.
import { createHash, randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { hashFiles } from '../local/file-hash.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const cacheOf = (root) => join(root, 'node_modules', '.cache', 'pce-export');
/** Bumped when the manifest or the bundle changes shape. */
const FORMAT = 2;
/** Besides the sources esbuild reads: what else decides the bundle's content. */
const ALSO_KEYED = ['package-lock.json', 'tsconfig.json', 'bin/cli-bundle.mjs'];
const HANDLERS = 'lambdas/handlers';
/** Packages loaded from node_modules rather than bundled. */
const EXTERNAL = ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', 'cdk-nag', 'esbuild', 'tsx', 'tsx/*'];
/** Bundles kept; older ones are removed when a new one is written. */
const KEEP = 3;

/** The hash of `files` (paths relative to `root`), in the order given (see `hashFiles`). */
function hashOf(root, files) {
  return hashFiles(createHash('sha256').update(`format ${FORMAT}\n`), root, files).digest('hex');
}

/** The cached bundle's path when it was built from exactly the files there are now. */
function fresh(root) {
  try {
    const manifest = JSON.parse(readFileSync(join(cacheOf(root), 'cli.json'), 'utf8'));
    if (manifest.format !== FORMAT || !Array.isArray(manifest.inputs)) return undefined;
    if (hashOf(root, [...ALSO_KEYED, ...manifest.inputs]) !== manifest.hash) return undefined;
    const bundle = join(cacheOf(root), manifest.bundle, 'main.mjs');
    return statSync(bundle).isFile() ? bundle : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `import.meta.dirname`, `filename` and `url` of each source, as literals: the code finds the
 * repository (configuration, cdk.json, handler entries) from its own files, wherever the bundle is.
 */
const sourceLocations = {
  name: 'source-locations',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8')
        .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
        .replaceAll('import.meta.filename', JSON.stringify(args.path))
        .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href));
      return { contents: text, loader: 'ts' };
    });
  },
};

/** Builds the bundle, writes it and its manifest (each renamed into place whole), returns its path. */
async function build(root) {
  const { build: esbuild } = await import('esbuild');
  const cache = cacheOf(root);
  const handlers = (existsSync(join(root, HANDLERS)) ? readdirSync(join(root, HANDLERS)) : [])
    .filter((name) => name.endsWith('.ts'))
    .sort()
    .map((name) => `${HANDLERS}/${name}`);
  // The engine imports handler modules by path; in the bundle it finds them registered instead.
  const entry = [
    "import { registerBundledHandlers } from './local/lambda.ts';",
    'registerBundledHandlers({',
    ...handlers.map((path) => `  ${JSON.stringify(path)}: () => import(${JSON.stringify(`./${path}`)}),`),
    '});',
    "export * from './cli/io.ts';",
    "export * from './cli/main.ts';",
  ].join('\n');
  mkdirSync(cache, { recursive: true });
  const partial = join(cache, `cli-${process.pid}-${randomUUID()}.tmp`);
  // Split at every dynamic import, so that a package only one command needs (the CDK for a synth,
  // the simulator's for `simulate`) is loaded only by the command that reaches it.
  const result = await esbuild({
    stdin: { contents: entry, resolveDir: root, sourcefile: 'main.ts', loader: 'ts' },
    absWorkingDir: root,
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // The packages go into the bundle too (one file read instead of hundreds), except those that
    // find files of their own at run time or that only a synth loads.
    external: EXTERNAL,
    mainFields: ['module', 'main'],
    // CommonJS packages inside an ES module still call require() for Node's built-ins.
    banner: {
      js: "import { createRequire as __pceCreateRequire } from 'node:module'; const require = __pceCreateRequire(import.meta.url);",
    },
    outdir: partial,
    entryNames: 'main',
    chunkNames: '[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    metafile: true,
    // Less source to read, decode and compile at every start (8.1 MB → 5.7 MB); names are kept,
    // so that a stack trace still reads.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    logLevel: 'silent',
    plugins: [sourceLocations],
  });
  const inputs = Object.keys(result.metafile.inputs)
    .filter((path) => !path.startsWith('<'))
    .map((path) => relative(root, resolve(root, path)))
    .sort();
  const hash = hashOf(root, [...ALSO_KEYED, ...inputs]);
  const name = `cli-${hash.slice(0, 16)}`;
  try {
    renameSync(partial, join(cache, name));
  } catch (error) {
    // Another process built the same bundle first (the same inputs give the same name, and a
    // bundle only appears whole, by rename). It may be loading it now: use it, never replace it.
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(join(cache, name, 'main.mjs'))) throw error;
  }
  const manifest = join(cache, `cli.json.${process.pid}-${randomUUID()}.tmp`);
  writeFileSync(manifest, JSON.stringify({ format: FORMAT, hash, bundle: name, inputs }));
  renameSync(manifest, join(cache, 'cli.json'));
  prune(cache, name);
  return join(cache, name, 'main.mjs');
}

function prune(cache, current) {
  const bundles = readdirSync(cache)
    .filter((name) => /^cli-[0-9a-f]{16}$/.test(name) && name !== current)
    .map((name) => ({ path: join(cache, name), time: statSync(join(cache, name)).mtimeMs }))
    .sort((a, b) => b.time - a.time);
  for (const old of bundles.slice(KEEP - 1)) rmSync(old.path, { recursive: true, force: true });
}

/**
 * The entry module of the bundle of the command line under `root`: the cached one while nothing
 * it was built from has changed, otherwise a new one. Building throws what esbuild throws.
 */
export async function cliBundle(root = ROOT) {
  return fresh(root) ?? (await build(root));
}

/** The command line's modules (`main` and the rest of cli/main.ts and cli/io.ts). */
export async function loadCli() {
  if (process.env.PCE_EXPORT_BUNDLE !== 'off') {
    let bundle;
    try {
      bundle = await cliBundle();
    } catch (error) {
      // A bundle that cannot be built (a read-only checkout, say) costs only the loader's time.
      process.stderr.write(`pce-export: running from the sources (no bundle: ${error?.message ?? error})\n`);
    }
    if (bundle !== undefined) return import(pathToFileURL(bundle).href);
  }
  const { register } = await import('tsx/esm/api');
  register();
  const [io, main] = await Promise.all([import('../cli/io.ts'), import('../cli/main.ts')]);
  return { ...io, ...main };
}
