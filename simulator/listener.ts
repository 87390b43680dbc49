/**
 * The listening socket: HTTP or HTTPS on one loopback port, the open connections and the bytes
 * they carried, and stopping to accept (a refused connection, as while a PCE restarts) then
 * listening again on the same port.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { generateServerTls } from './tls';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class Listener {
  url = '';
  caPem?: string;
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  /** Bytes written on connections that have closed. */
  private closedBytes = 0;
  private port = 0;
  private accepting = true;
  private closed = false;
  /** Stop/resume requests run one after the other. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly host: string,
    private readonly tls: boolean,
    private readonly handler: Handler,
  ) {}

  async start(port: number): Promise<void> {
    let server: Server;
    if (this.tls) {
      const tls = await generateServerTls();
      this.caPem = tls.caPem;
      server = createHttpsServer({ key: tls.keyPem, cert: tls.certPem }, this.handler) as unknown as Server;
    } else {
      server = createHttpServer(this.handler);
    }
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => {
        this.sockets.delete(socket);
        this.closedBytes += socket.bytesWritten;
      });
    });
    this.server = server;
    await this.listen(port);
    this.port = (server.address() as AddressInfo).port;
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    this.url = `${this.tls ? 'https' : 'http'}://${host}:${this.port}`;
  }

  private listen(port: number): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  bytesSent(): number {
    let total = this.closedBytes;
    for (const socket of this.sockets) total += socket.bytesWritten;
    return total;
  }

  /**
   * `false`: stop listening and cut every open connection, so new connections are refused;
   * `true`: listen again on the same port (retrying while the port is briefly taken).
   */
  setAccepting(accepting: boolean): Promise<void> {
    this.chain = this.chain.then(() => this.apply(accepting)).catch(() => {});
    return this.chain;
  }

  private async apply(accepting: boolean): Promise<void> {
    const server = this.server;
    if (!server || this.closed || accepting === this.accepting) return;
    this.accepting = accepting;
    if (!accepting) {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      this.dropConnections();
      await stopped;
      return;
    }
    while (!this.closed && this.accepting) {
      try {
        await this.listen(this.port);
        return;
      } catch {
        await sleep(50);
      }
    }
  }

  private dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server || this.closed) return;
    this.closed = true;
    await this.chain;
    const closed = server.listening
      ? new Promise<void>((resolve) => server.close(() => resolve()))
      : undefined;
    this.dropConnections();
    this.sockets.clear();
    await closed;
  }
}
