import { Readable } from 'node:stream';
import type { AsyncJobApi, Datafile } from '../pce/jobs';
import type { ExportLogger } from './logger';

/** How often a completed query that serves an empty result is downloaded again. */
const DEFAULT_EMPTY_RESULT_REFETCHES = 3;
const DEFAULT_EMPTY_RESULT_DELAY_MS = 2_000;
/** Leading whitespace looked through before a body counts as data; JSON arrays start at once. */
const MAX_PEEK_BYTES = 64 * 1024;

export type BodyShape = 'data' | 'empty-array' | 'blank';

/**
 * Looks at the start of a JSON body without consuming it: `empty-array` for `[]` (whitespace
 * allowed), `blank` for a body of nothing but whitespace, `data` for anything else (a non-empty
 * array, or something the JSON scanner will reject). `body` replays the bytes looked at and
 * then the rest; destroying it destroys `source`. An error of `source` before the answer rejects.
 */
export async function peekJsonArray(source: Readable): Promise<{ shape: BodyShape; body: Readable }> {
  const iterator: AsyncIterator<Buffer> = source[Symbol.asyncIterator]();
  const seen: Buffer[] = [];
  let size = 0;
  let ended = false;
  let shape: BodyShape | undefined;
  while (shape === undefined) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      shape = classify(Buffer.concat(seen), true) ?? 'data';
      break;
    }
    seen.push(next.value);
    size += next.value.length;
    shape = classify(Buffer.concat(seen), false) ?? (size > MAX_PEEK_BYTES ? 'data' : undefined);
  }
  async function* replayed(): AsyncGenerator<Buffer> {
    const head = Buffer.concat(seen);
    if (head.length > 0) yield head;
    if (ended) return;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  const body = Readable.from(replayed(), { objectMode: false });
  body.once('close', () => {
    if (!source.destroyed) source.destroy();
  });
  return { shape, body };
}

/** The shape of the bytes seen so far; undefined while they do not tell yet. */
function classify(bytes: Buffer, ended: boolean): BodyShape | undefined {
  let i = 0;
  const skipSpace = () => {
    while (i < bytes.length && isSpace(bytes[i])) i++;
  };
  skipSpace();
  if (i === bytes.length) return ended ? 'blank' : undefined;
  if (bytes[i] !== 0x5b) return 'data';
  i++;
  skipSpace();
  if (i === bytes.length) return ended ? 'data' : undefined;
  return bytes[i] === 0x5d ? 'empty-array' : 'data';
}

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

export interface TrafficResultOptions {
  readonly logger: ExportLogger;
  /** @default 3 */
  readonly refetches?: number;
  /** Wait between downloads of an empty result. @default 2000 */
  readonly delayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Opens a completed traffic query's download. A completed query can briefly serve an empty
 * result, so an empty one (`[]` or a blank body) is downloaded again, up to `refetches` times
 * with `delayMs` between, before it is accepted as it is. `downloads` counts the downloads made.
 */
export async function openTrafficResult(
  traffic: Pick<AsyncJobApi<unknown>, 'open'>,
  downloadHref: string,
  options: TrafficResultOptions,
): Promise<Datafile & { readonly downloads: number }> {
  const refetches = options.refetches ?? DEFAULT_EMPTY_RESULT_REFETCHES;
  const delayMs = options.delayMs ?? DEFAULT_EMPTY_RESULT_DELAY_MS;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let downloads = 1; ; downloads++) {
    const download = await traffic.open(downloadHref);
    const { shape, body } = await peekJsonArray(download.body);
    if (shape === 'data') return { ...download, body, downloads };
    if (downloads > refetches) {
      options.logger.warn('The traffic query result is still empty; accepting it as empty', {
        downloads,
        shape,
      });
      return { ...download, body, downloads };
    }
    body.destroy();
    options.logger.info('The completed traffic query served an empty result; downloading it again', {
      downloads,
      shape,
      delayMs,
    });
    await sleep(delayMs);
  }
}
