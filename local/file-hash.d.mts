import type { Hash } from 'node:crypto';

/** Feeds each of `files` (relative to `root`), path and content, into `hash`; returns `hash`. */
export function hashFiles(hash: Hash, root: string, files: readonly string[]): Hash;
