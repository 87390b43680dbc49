import { createServer, type IncomingMessage } from 'node:http';
import {
  type AddressInfo,
  connect,
  createServer as createTcpServer,
  type Server,
  type Socket,
} from 'node:net';
import { createProxy, type ProxyServer } from 'proxy';

/*
 * A real HTTP CONNECT proxy for the proxy tests: the `proxy` package of the proxy-agents project
 * on loopback, opening its connections to the PCE from 127.0.0.2 and counting its tunnels, and a
 * TCP tap in front of the simulator that records where every connection to the PCE came from.
 */

export const PROXY_SOURCE = '127.0.0.2';

export interface Tap {
  readonly url: string;
  /** The source address of every connection the PCE got, in order. */
  readonly sources: string[];
  close(): Promise<void>;
}

/** A TCP relay in front of the simulator that records each connection's source address. */
export async function startTap(target: URL): Promise<Tap> {
  const sources: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createTcpServer((client) => {
    sources.push(client.remoteAddress ?? '?');
    const upstream = connect({ host: target.hostname, port: Number(target.port) });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${target.protocol}//127.0.0.1:${port}`,
    sources,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export interface CountingProxy {
  readonly url: string;
  /** The `host:port` of every CONNECT, in order. */
  readonly tunnels: string[];
  /** Plain (non-CONNECT) requests the proxy was asked to forward. */
  readonly forwarded: string[];
  readonly server: ProxyServer;
  close(): Promise<void>;
}

export async function startProxy(): Promise<CountingProxy> {
  const tunnels: string[] = [];
  const forwarded: string[] = [];
  const server = createProxy(createServer());
  server.localAddress = PROXY_SOURCE;
  server.prependListener('connect', (req: IncomingMessage) => tunnels.push(req.url ?? ''));
  server.prependListener('request', (req: IncomingMessage) => forwarded.push(req.url ?? ''));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    forwarded,
    server,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
