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
import type { ExportConfig } from '../lib/config';
import { hashFiles } from './file-hash.mjs';
import { DEFAULT_CONFIG_PATH, type LocalDefinition, REPO_ROOT } from './stack';
import { markAllValidated } from './validated';

/** The module that synthesizes the definition; its sources are part of the key. */
const SYNTH_MODULE = join(import.meta.dirname, 'definition.ts');

/** Bumped when the cached document changes shape, so that no older entry is read as a newer one. */
const FORMAT = 2;

/** Entries kept; older ones are removed when a new one is written. */
const KEEP = 8;

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

/**
 * Where synthesized definitions are cached: `$XDG_CACHE_HOME/pce-export` when it is set,
 * otherwise `node_modules/.cache/pce-export` in the repository.
 */
export function cacheDirectory(root: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.XDG_CACHE_HOME
    ? join(env.XDG_CACHE_HOME, 'pce-export')
    : join(root, 'node_modules', '.cache', 'pce-export');
}

/**
 * The cache key of a synthesized definition: a hash of the deploy configuration, cdk.json,
 * package-lock.json and every source file that shapes the definition — the code that
 * synthesizes it (`entries`), everything in lib/, and each file they import, transitively (the
 * lambdas/ modules the construct imports among them).
 */
export function definitionCacheKey(config: unknown, root: string, entries: readonly string[]): string {
  const hash = createHash('sha256')
    .update(`format ${FORMAT}\n`)
    .update(JSON.stringify(config ?? null));
  const sources = sourcesOf(root, [...entries, ...listTypeScript(join(root, 'lib'))]);
  const files = ['cdk.json', 'package-lock.json', ...sources.map((file) => relative(root, file))];
  return hashFiles(hash, root, files).digest('hex');
}

/** The source files reachable from `entries` through relative imports, inside `root`, sorted. */
function sourcesOf(root: string, entries: readonly string[]): string[] {
  const seen = new Set<string>();
  const pending = entries.map((entry) => resolve(root, entry));
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file) || !file.startsWith(root) || !existsSync(file)) continue;
    seen.add(file);
    if (!file.endsWith('.ts')) continue;
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = resolveImport(dirname(file), String(match[1]));
      if (target) pending.push(target);
    }
  }
  return [...seen].sort();
}

function resolveImport(from: string, specifier: string): string | undefined {
  const base = resolve(from, specifier.replace(/\.js$/, '.ts'));
  return [base, `${base}.ts`, join(base, 'index.ts')].find((candidate) => isFile(candidate));
}

function listTypeScript(directory: string): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(directory, name));
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

/**
 * The synthesized definition for a configuration (by default the one `cdk synth` reads): from the
 * cache when nothing that shapes it has changed, without loading the CDK; otherwise synthesized,
 * and cached. `PCE_EXPORT_DEFINITION_CACHE=off` always synthesizes.
 */
export async function loadLocalDefinition(config?: ExportConfig): Promise<LocalDefinition> {
  const useCache = process.env.PCE_EXPORT_DEFINITION_CACHE !== 'off';
  if (useCache) {
    // The default configuration is keyed by its file, which is what the parsed one is made of.
    const source = config ?? { file: readFileSync(DEFAULT_CONFIG_PATH, 'utf8') };
    const hit = read<LocalDefinition>(
      cacheDirectory(REPO_ROOT),
      definitionCacheKey(source, REPO_ROOT, [SYNTH_MODULE]),
    );
    // Written only after its definitions passed the executor's validation (definition.ts).
    if (hit) return markAllValidated(hit);
  }
  const { synthesizeLocalDefinition } = await import('./definition');
  return synthesizeLocalDefinition(config, { cache: useCache });
}

function read<T>(directory: string, key: string): T | undefined {
  try {
    const entry = JSON.parse(readFileSync(join(directory, `definition-${key}.json`), 'utf8')) as {
      key?: unknown;
      value?: T;
    };
    return entry.key === key ? entry.value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The cached value under `key`, or `produce()`'s, written atomically (to a temporary file,
 * then renamed) so that a reader never sees half an entry. An entry that cannot be read is
 * produced again.
 */
export function cached<T>(directory: string, key: string, produce: () => T): T {
  const file = join(directory, `definition-${key}.json`);
  const hit = read<T>(directory, key);
  if (hit !== undefined) return hit;
  const value = produce();
  try {
    mkdirSync(directory, { recursive: true });
    const temporary = `${file}.${process.pid}.${randomUUID()}.tmp`;
    writeFileSync(temporary, JSON.stringify({ key, value }));
    renameSync(temporary, file);
    prune(directory);
  } catch {
    // A cache that cannot be written only costs the next run a synth.
  }
  return value;
}

function prune(directory: string): void {
  const entries = readdirSync(directory)
    .filter((name) => /^definition-[0-9a-f]{64}\.json$/.test(name))
    .map((name) => ({ path: join(directory, name), time: statSync(join(directory, name)).mtimeMs }))
    .sort((a, b) => b.time - a.time);
  for (const entry of entries.slice(KEEP)) rmSync(entry.path, { force: true });
}
