import { mkdtempSync, rmdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { UsageError } from './errors';

/**
 * Checks that `--out DIR` can be written before anything runs: the nearest part of the path that
 * exists must be a directory that takes new entries (tried with a directory made and removed at
 * once, since permissions alone do not tell: a read-only mount, /proc, root's rights).
 */
export function checkOutDirectory(flag: string, dir: string): void {
  const fail = (why: string) => {
    throw new UsageError(
      `${flag} ${JSON.stringify(dir)} cannot be written: ${why}; give ${flag} a directory you can write to`,
    );
  };
  let existing = resolve(dir);
  for (;;) {
    const code = errorCode(() => statSync(existing).isDirectory() || fail(`${shown(existing)} is a file`));
    if (code === undefined) break;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') fail(`${shown(existing)} cannot be read (${code})`);
    existing = dirname(existing);
  }
  const code = errorCode(() => rmdirSync(mkdtempSync(join(existing, '.pce-export-'))));
  if (code !== undefined) fail(`${shown(existing)} does not take new files (${code})`);
}

/** The code of the error `action` throws (a UsageError is thrown on), or undefined when it succeeds. */
function errorCode(action: () => unknown): string | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
}

/** A path as the user would write it: relative to the working directory when it is below it. */
function shown(path: string): string {
  const below = relative(process.cwd(), path);
  return below === '' ? '.' : below.startsWith('..') || isAbsolute(below) ? path : below;
}
