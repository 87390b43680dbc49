import { describe, expect, it, vi } from 'vitest';
import { PceClientCache } from '../../lambdas/export/pce-clients';
import type { PceClient } from '../../lambdas/pce/client';
import type { PceConnection } from '../../lambdas/pce/types';
import { unusedJobs } from '../support/fake-pce';

function fakeClient(): PceClient & { close: ReturnType<typeof vi.fn> } {
  return {
    collections: unusedJobs('collection job'),
    traffic: unusedJobs('traffic query'),
    close: vi.fn(async () => undefined),
  };
}

const connection: PceConnection = {
  baseUrl: 'https://pce.example.com:8443',
  orgId: 1,
  apiKey: 'api_1a2b',
  apiSecret: 'secret-one',
};

describe('PceClientCache', () => {
  it('returns the same client for the same PCE, org and credentials', () => {
    const factory = vi.fn(fakeClient);
    const cache = new PceClientCache(factory);

    const first = cache.get(connection);
    const second = cache.get({ ...connection });

    expect(second).toBe(first);
    expect(factory).toHaveBeenCalledTimes(1);
  });

  it('passes the connection and options to the factory', () => {
    const factory = vi.fn(fakeClient);
    const cache = new PceClientCache(factory);
    const options = { retryAfter: { minSeconds: 2, maxSeconds: 60, defaultSeconds: 5 } };

    cache.get(connection, options);

    expect(factory).toHaveBeenCalledWith(connection, options);
  });

  it('closes and replaces the client when the API secret is rotated', () => {
    const clients: ReturnType<typeof fakeClient>[] = [];
    const cache = new PceClientCache(() => {
      const client = fakeClient();
      clients.push(client);
      return client;
    });

    const before = cache.get(connection);
    const after = cache.get({ ...connection, apiSecret: 'secret-two' });

    expect(after).not.toBe(before);
    expect(clients[0]?.close).toHaveBeenCalledTimes(1);
    expect(cache.size).toBe(1);
  });

  it('replaces the client when the CA bundle changes', () => {
    const factory = vi.fn(fakeClient);
    const cache = new PceClientCache(factory);

    cache.get(connection);
    cache.get({ ...connection, caBundle: '-----BEGIN CERTIFICATE-----\n…' });

    expect(factory).toHaveBeenCalledTimes(2);
  });

  it('keeps separate clients for separate PCEs and closes the least recently used beyond the limit', () => {
    const clients: ReturnType<typeof fakeClient>[] = [];
    const cache = new PceClientCache(() => {
      const client = fakeClient();
      clients.push(client);
      return client;
    }, 2);

    const a = cache.get({ ...connection, baseUrl: 'https://a.example.com' });
    cache.get({ ...connection, baseUrl: 'https://b.example.com' });
    expect(cache.get({ ...connection, baseUrl: 'https://a.example.com' })).toBe(a);
    cache.get({ ...connection, baseUrl: 'https://c.example.com' });

    expect(cache.size).toBe(2);
    expect(clients[0]?.close).not.toHaveBeenCalled();
    expect(clients[1]?.close).toHaveBeenCalledTimes(1);
  });

  it('logs rather than throws when closing a replaced client fails', async () => {
    const failing = fakeClient();
    failing.close.mockRejectedValue(new Error('already closed'));
    const factory = vi.fn().mockReturnValueOnce(failing).mockReturnValue(fakeClient());
    const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const cache = new PceClientCache(factory);

    cache.get(connection, {}, logger);
    cache.get({ ...connection, apiSecret: 'rotated' }, {}, logger);
    await new Promise((resolve) => setImmediate(resolve));

    expect(logger.warn).toHaveBeenCalledWith('Closing a replaced PCE client failed', expect.anything());
  });

  it('closes every client on clear', async () => {
    const client = fakeClient();
    const cache = new PceClientCache(() => client);
    cache.get(connection);

    await cache.clear();

    expect(client.close).toHaveBeenCalledTimes(1);
    expect(cache.size).toBe(0);
  });
});
