import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { HANDLERS_DIR, REPO_ROOT } from '../../lib/lambda-defaults';

/*
 * Section 4: each handler bundled exactly as lib/lambda-defaults.ts has CDK's NodejsFunction
 * bundle it (esbuild: bundle, platform node, target node24, CJS, minify, source map, main fields
 * module,main, nothing external), then loaded in fresh `node` processes the way the Lambda
 * runtime loads it: `require` of the bundle with NODE_OPTIONS=--enable-source-maps.
 */

const KIB = 1024;
export const HANDLERS = ['submit', 'poll', 'fetch'] as const;
const EMPTY_HANDLER = 'export const handler = async (): Promise<unknown> => ({});\n';

export interface Dependency {
  /** npm package, or `(own code)` for the repository's sources. */
  readonly name: string;
  readonly bytes: number;
  readonly share: number;
}

export interface BundleResult {
  readonly handler: string;
  readonly bytes: number;
  readonly sourceMapBytes: number;
  /** Module initialisation (require of the bundle), ms, one per fresh process. */
  readonly initMs: readonly number[];
  readonly initMedianMs: number;
  /**
   * CPU time of the same (user + system, every thread of the process), ms (median): on a shared
   * machine it moves far less with the load than the wall time does.
   */
  readonly initCpuMedianMs: number;
  /** The same without --enable-source-maps. */
  readonly initNoSourceMapsMedianMs: number;
  /** Whole `node` process, start to exit, ms (median). */
  readonly processMedianMs: number;
  readonly dependencies: readonly Dependency[];
}

export interface ColdStartResult {
  readonly runs: number;
  readonly empty: BundleResult;
  readonly handlers: readonly BundleResult[];
  /** 2 × the empty handler's init + 150 ms. */
  readonly budgetMs: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Which package each input file belongs to. */
function packageOf(path: string): string {
  const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path.replace(/\\/g, '/'));
  if (match?.[1]) return match[1];
  return '(own code)';
}

function dependencies(metafile: Metafile, outfile: string): Dependency[] {
  const output = Object.entries(metafile.outputs).find(([path]) => resolve(REPO_ROOT, path) === outfile)?.[1];
  if (!output) throw new Error(`esbuild metafile has no output ${outfile}`);
  const byPackage = new Map<string, number>();
  for (const [path, input] of Object.entries(output.inputs)) {
    const name = packageOf(path);
    byPackage.set(name, (byPackage.get(name) ?? 0) + input.bytesInOutput);
  }
  const total = [...byPackage.values()].reduce((a, b) => a + b, 0);
  return [...byPackage.entries()]
    .map(([name, bytes]) => ({ name, bytes, share: bytes / total }))
    .sort((a, b) => b.bytes - a.bytes);
}

/** Groups AWS SDK and Smithy packages under one name each, for the "dominates" sentence. */
export function familyShares(deps: readonly Dependency[]): Dependency[] {
  const family = (name: string) =>
    name.startsWith('@aws-sdk/') || name.startsWith('@smithy/') || name.startsWith('@aws-crypto/')
      ? 'AWS SDK v3 (@aws-sdk, @smithy, @aws-crypto)'
      : name.startsWith('@aws-lambda-powertools/')
        ? 'Powertools (@aws-lambda-powertools)'
        : name;
  const grouped = new Map<string, number>();
  for (const d of deps) grouped.set(family(d.name), (grouped.get(family(d.name)) ?? 0) + d.bytes);
  const total = deps.reduce((a, d) => a + d.bytes, 0);
  return [...grouped.entries()]
    .map(([name, bytes]) => ({ name, bytes, share: bytes / total }))
    .sort((a, b) => b.bytes - a.bytes);
}

async function bundle(
  entry: { file: string } | { contents: string },
  outdir: string,
  name: string,
): Promise<{ outfile: string; metafile: Metafile }> {
  const outfile = join(outdir, name, 'index.js');
  const result = await build({
    ...('file' in entry
      ? { entryPoints: [entry.file] }
      : {
          stdin: { contents: entry.contents, loader: 'ts', resolveDir: REPO_ROOT, sourcefile: `${name}.ts` },
        }),
    absWorkingDir: REPO_ROOT,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    outfile,
    minify: true,
    sourcemap: true,
    mainFields: ['module', 'main'],
    external: [],
    metafile: true,
    logLevel: 'silent',
  });
  return { outfile, metafile: result.metafile };
}

const INIT_SCRIPT = `
const start = process.hrtime.bigint();
const cpu = process.cpuUsage();
require(process.argv[1]);
const used = process.cpuUsage(cpu);
const ms = Number(process.hrtime.bigint() - start) / 1e6;
process.stdout.write(JSON.stringify({ ms, cpuMs: (used.user + used.system) / 1e3 }));
`;

/** Loads the bundle in a fresh node process; returns the require time (wall and CPU) and the process's wall time. */
function initOnce(
  outfile: string,
  sourceMaps: boolean,
): { initMs: number; initCpuMs: number; processMs: number } {
  const started = performance.now();
  const child = spawnSync(process.execPath, ['-e', INIT_SCRIPT, outfile], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_OPTIONS: sourceMaps ? '--enable-source-maps' : '',
      AWS_REGION: 'us-east-1',
      AWS_LAMBDA_FUNCTION_NAME: 'bench',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      POWERTOOLS_SERVICE_NAME: 'pce-export',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    encoding: 'utf8',
  });
  const processMs = performance.now() - started;
  if (child.status !== 0) throw new Error(`loading ${outfile} failed: ${child.stderr}`);
  const { ms, cpuMs } = JSON.parse(child.stdout) as { ms: number; cpuMs: number };
  return { initMs: ms, initCpuMs: cpuMs, processMs };
}

async function measure(
  handler: string,
  entry: { file: string } | { contents: string },
  outdir: string,
  runs: number,
): Promise<BundleResult> {
  const { outfile, metafile } = await bundle(entry, outdir, handler);
  const [js, map] = await Promise.all([stat(outfile), stat(`${outfile}.map`)]);
  initOnce(outfile, true); // warm the file cache
  const withMaps = Array.from({ length: runs }, () => initOnce(outfile, true));
  const withoutMaps = Array.from({ length: runs }, () => initOnce(outfile, false));
  return {
    handler,
    bytes: js.size,
    sourceMapBytes: map.size,
    initMs: withMaps.map((r) => r.initMs),
    initMedianMs: median(withMaps.map((r) => r.initMs)),
    initCpuMedianMs: median(withMaps.map((r) => r.initCpuMs)),
    initNoSourceMapsMedianMs: median(withoutMaps.map((r) => r.initMs)),
    processMedianMs: median(withMaps.map((r) => r.processMs)),
    dependencies: dependencies(metafile, outfile),
  };
}

export async function runColdStart(runs: number, log: (line: string) => void): Promise<ColdStartResult> {
  const outdir = await mkdtemp(join(tmpdir(), 'pce-export-bench-bundles-'));
  try {
    const empty = await measure('empty', { contents: EMPTY_HANDLER }, outdir, runs);
    log(
      `cold start: empty handler ${(empty.bytes / KIB).toFixed(1)} KiB, init ${empty.initMedianMs.toFixed(1)} ms (CPU ${empty.initCpuMedianMs.toFixed(1)} ms)`,
    );
    const handlers: BundleResult[] = [];
    for (const handler of HANDLERS) {
      const result = await measure(handler, { file: join(HANDLERS_DIR, `${handler}.ts`) }, outdir, runs);
      const top = familyShares(result.dependencies)[0];
      log(
        `cold start: ${handler} ${(result.bytes / KIB).toFixed(1)} KiB, init ${result.initMedianMs.toFixed(1)} ms (CPU ${result.initCpuMedianMs.toFixed(1)} ms; no source maps ${result.initNoSourceMapsMedianMs.toFixed(1)} ms), largest: ${top?.name} ${((top?.share ?? 0) * 100).toFixed(0)}%`,
      );
      handlers.push(result);
    }
    return { runs, empty, handlers, budgetMs: 2 * empty.initMedianMs + 150 };
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
}
