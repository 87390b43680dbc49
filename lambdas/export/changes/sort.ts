import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { keyOf } from './digest';

/*
 * An external sort of digest lines by key, through a directory (the function's /tmp): lines are
 * collected up to `maxChars`, sorted and written as one gzipped run file; `sorted()` then merges
 * the runs, reading each a line at a time. Memory holds one batch while adding and one line per
 * run while merging, whatever the number of lines.
 */

const DEFAULT_MAX_CHARS = 16 * 1024 * 1024;

const byKey = (a: string, b: string): number => {
  const ka = keyOf(a);
  const kb = keyOf(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};

export class ExternalSorter {
  private batch: string[] = [];
  private chars = 0;
  private readonly runs: string[] = [];
  private directory: string | undefined;

  constructor(
    private readonly parent: string,
    private readonly maxChars = DEFAULT_MAX_CHARS,
  ) {}

  /** Runs written to disk so far. */
  get runCount(): number {
    return this.runs.length;
  }

  async add(line: string): Promise<void> {
    this.batch.push(line);
    this.chars += line.length;
    if (this.chars >= this.maxChars) await this.spill();
  }

  /** Every line added, in key order. */
  async *sorted(): AsyncGenerator<string> {
    if (this.runs.length === 0) {
      const batch = this.batch.sort(byKey);
      this.batch = [];
      yield* batch;
      return;
    }
    if (this.batch.length > 0) await this.spill();
    const heads = this.runs.map((file) =>
      createInterface({ input: createReadStream(file).pipe(createGunzip()), crlfDelay: Infinity })[
        Symbol.asyncIterator
      ](),
    );
    const current: (string | undefined)[] = await Promise.all(
      heads.map(async (head) => (await head.next()).value as string | undefined),
    );
    for (;;) {
      let min = -1;
      for (let i = 0; i < current.length; i++) {
        const line = current[i];
        if (line === undefined) continue;
        if (min === -1 || byKey(line, current[min] as string) < 0) min = i;
      }
      if (min === -1) return;
      yield current[min] as string;
      const next = await (heads[min] as AsyncIterator<string>).next();
      current[min] = next.done ? undefined : (next.value as string);
    }
  }

  /** Removes the run files. */
  async close(): Promise<void> {
    if (this.directory !== undefined) await rm(this.directory, { recursive: true, force: true });
  }

  private async spill(): Promise<void> {
    this.directory ??= await mkdtemp(join(this.parent, 'pce-export-changes-'));
    const file = join(this.directory, `run-${this.runs.length}.gz`);
    const batch = this.batch.sort(byKey);
    this.batch = [];
    this.chars = 0;
    const gzip = createGzip({ level: 1 });
    const written = pipeline(gzip, createWriteStream(file));
    for (const line of batch) {
      if (!gzip.write(`${line}\n`)) await once(gzip, 'drain');
    }
    gzip.end();
    await written;
    this.runs.push(file);
  }
}
