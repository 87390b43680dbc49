/**
 * Putting a body on the wire with the wire-level faults applied: slow (a slice ten times a
 * second), cut (the connection dropped after N bytes) or stalled (nothing more after N bytes,
 * the connection left open). Backpressure is respected: a chunk is only produced once the
 * previous one has been taken by the socket.
 */
import type { ServerResponse } from 'node:http';

export interface WireFaults {
  readonly bytesPerSecond?: number;
  readonly cutAfterBytes?: number;
  readonly stallAfterBytes?: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** A header name in the case a `header-case` fault asks for (`RETRY-AFTER`, `Retry-After`). */
export function caseHeader(name: string, style: 'upper' | 'title' | undefined): string {
  if (style === 'upper') return name.toUpperCase();
  if (style === 'title')
    return name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
  return name;
}

/** Writes a chunk, waiting for 'drain' when the socket buffer is full. False once the connection is gone. */
function write(res: ServerResponse, chunk: Uint8Array): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return Promise.resolve(false);
  if (res.write(chunk)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

/** Writes the last bytes, then drops the connection mid-body. */
function cutAfter(res: ServerResponse, last: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    const kill = () => {
      res.socket?.destroy();
      res.destroy();
      resolve();
    };
    if (res.destroyed) return resolve();
    if (!res.headersSent) res.flushHeaders();
    if (last.length > 0) res.write(last, () => setImmediate(kill));
    else if (res.socket && res.socket.writableLength > 0) res.socket.once('drain', kill);
    else setImmediate(kill);
  });
}

/** Writes the last bytes, then sends nothing more until the client (or the simulator) closes. */
function stallAfter(res: ServerResponse, last: Uint8Array): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  if (!res.headersSent) res.flushHeaders();
  if (last.length > 0) res.write(last);
  return new Promise((resolve) => res.once('close', () => resolve()));
}

/** Sends the body with the wire faults applied, then ends the response (unless cut or stalled). */
export async function pump(
  res: ServerResponse,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  faults: WireFaults,
): Promise<void> {
  const stopAt = faults.cutAfterBytes ?? faults.stallAfterBytes;
  const stop = faults.cutAfterBytes !== undefined ? cutAfter : stallAfter;
  const rate = faults.bytesPerSecond;
  const slice = rate === undefined ? Number.POSITIVE_INFINITY : Math.max(1, Math.floor(rate / 10));
  let sent = 0;
  for await (const chunk of source) {
    let rest: Uint8Array = chunk;
    while (rest.length > 0) {
      let piece = rest.length > slice ? rest.subarray(0, slice) : rest;
      if (stopAt !== undefined && sent + piece.length >= stopAt) {
        piece = piece.subarray(0, stopAt - sent);
        await stop(res, piece);
        return;
      }
      if (!(await write(res, piece))) return;
      sent += piece.length;
      rest = rest.subarray(piece.length);
      if (rate !== undefined) {
        await sleep((piece.length / rate) * 1000);
        if (res.destroyed) return;
      }
    }
  }
  if (stopAt !== undefined && sent >= stopAt) {
    await stop(res, new Uint8Array(0));
    return;
  }
  res.end();
}
