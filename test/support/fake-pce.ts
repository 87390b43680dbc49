import { Readable } from 'node:stream';
import { vi } from 'vitest';
import type { PceClient } from '../../lambdas/pce/types';

/** A PCE client whose finished job serves `body` as its datafile; every call is a spy. */
export function datafileClient(body: string) {
  return {
    submit: vi.fn(),
    poll: vi.fn(),
    openDatafile: vi.fn(async () => ({
      body: Readable.from([Buffer.from(body)]),
      contentType: 'application/json',
    })),
    deleteJob: vi.fn(async () => undefined),
    close: vi.fn(async () => undefined),
  } satisfies PceClient;
}
