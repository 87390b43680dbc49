import { Readable } from 'node:stream';
import { vi } from 'vitest';
import type { PceClient } from '../../lambdas/pce/client';

/** Job API spies that fail the test when called: the kind of job an export must not use. */
export function unusedJobs(what: string) {
  const unused = () => {
    throw new Error(`the ${what} API was called`);
  };
  return {
    submit: vi.fn(unused),
    poll: vi.fn(unused),
    open: vi.fn(unused),
    delete: vi.fn(unused),
    findByName: vi.fn(unused),
  };
}

/** A PCE client whose finished collection job serves `body` as its datafile; every call is a spy. */
export function datafileClient(body: string) {
  return {
    collections: {
      submit: vi.fn(),
      poll: vi.fn(),
      open: vi.fn(async () => ({
        body: Readable.from([Buffer.from(body)]),
        contentType: 'application/json',
      })),
      delete: vi.fn(async () => undefined),
    },
    traffic: unusedJobs('traffic query'),
    close: vi.fn(async () => undefined),
  } satisfies PceClient;
}
