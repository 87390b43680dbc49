import { createHash } from 'node:crypto';
import type { PceClient, TrafficRunClient } from '../pce/client';
import { createPceClient } from '../pce/client';
import type { PceClientOptions, PceConnection } from '../pce/types';
import type { PceSettings } from './env';
import type { ExportLogger } from './logger';
import { readPceConnection } from './secret';

export type PceClientFactory<Client extends PceClient = PceClient> = (
  connection: PceConnection,
  options?: PceClientOptions,
) => Client;

interface Entry<Client> {
  readonly key: string;
  readonly client: Client;
}

/**
 * Keeps one PCE client per PCE, org and API key for the life of the Lambda container, so
 * keep-alive connections survive between invocations. The key includes a hash of the API
 * secret, the CA bundle and the client options: when the secret is rotated the old client is
 * closed and replaced. The secret itself is never stored in the key.
 */
export class PceClientCache<Client extends PceClient = PceClient> {
  private readonly entries = new Map<string, Entry<Client>>();

  constructor(
    private readonly factory: PceClientFactory<Client>,
    private readonly maxEntries = 4,
  ) {}

  get(connection: PceConnection, options: PceClientOptions = {}, logger?: ExportLogger): Client {
    const slot = `${connection.baseUrl}|${connection.orgId}|${connection.apiKey}`;
    const fingerprint = createHash('sha256')
      .update(connection.apiSecret)
      .update('\0')
      .update(connection.caBundle ?? '')
      .update('\0')
      .update(JSON.stringify(connection.credentialSource ?? null))
      .update('\0')
      .update(JSON.stringify(options, (k, v) => (k === 'dispatcher' ? undefined : v)))
      .digest('hex');
    const key = `${slot}|${fingerprint}`;
    const existing = this.entries.get(slot);
    if (existing?.key === key) {
      // Most recently used last.
      this.entries.delete(slot);
      this.entries.set(slot, existing);
      return existing.client;
    }
    if (existing) {
      logger?.info('PCE credentials changed; replacing the PCE client', { baseUrl: connection.baseUrl });
      this.retire(slot, existing, logger);
    }
    const client = this.factory(connection, options);
    this.entries.set(slot, { key, client });
    while (this.entries.size > this.maxEntries) {
      const [oldestSlot, oldest] = this.entries.entries().next().value as [string, Entry<Client>];
      this.retire(oldestSlot, oldest, logger);
    }
    return client;
  }

  /** Closes every cached client. */
  async clear(): Promise<void> {
    const clients = [...this.entries.values()].map((e) => e.client);
    this.entries.clear();
    await Promise.allSettled(clients.map((c) => c.close()));
  }

  get size(): number {
    return this.entries.size;
  }

  private retire(slot: string, entry: Entry<Client>, logger?: ExportLogger): void {
    this.entries.delete(slot);
    entry.client.close().catch((error: unknown) => {
      logger?.warn('Closing a replaced PCE client failed', { error });
    });
  }
}

/** The container-wide cache the handlers use. */
export const pceClients = new PceClientCache(createPceClient);

/**
 * A `connect` for the core logic: reads the secret (cached by Powertools) and returns the cached
 * client for it. Nothing happens until it is called, so bad input never reaches Secrets Manager.
 */
export function pceConnector(
  settings: PceSettings,
  logger?: ExportLogger,
  cache: PceClientCache = pceClients,
): () => Promise<PceClient> {
  return async () => {
    const connection = await readPceConnection(settings);
    return cache.get(
      connection,
      { retryAfter: settings.retryAfter, ...(settings.proxy ? { proxy: settings.proxy } : {}) },
      logger,
    );
  };
}

/** A `connect` for a traffic run: the same cached client, with what only traffic runs use. */
export function trafficConnector(
  settings: PceSettings,
  logger?: ExportLogger,
): () => Promise<PceClient & TrafficRunClient> {
  return async () => {
    const connection = await readPceConnection(settings);
    return pceClients.get(connection, { retryAfter: settings.retryAfter }, logger);
  };
}
