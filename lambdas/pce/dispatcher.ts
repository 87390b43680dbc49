import { rootCertificates } from 'node:tls';
import type { Dispatcher, Pool } from 'undici';
import { PceUnavailable } from './errors';
import { cleanText, statusLine } from './http';

/*
 * The connection pool of a PCE client: straight to the PCE, or through an HTTP CONNECT proxy with
 * undici's own proxy agent (EnvHttpProxyAgent, given the proxy and the hosts to reach directly, so
 * that it reads no proxy variable of the process and the AWS SDK, which does not use undici,
 * never goes through it). TLS is always between this client and the PCE, through the tunnel: the
 * PCE's certificate is verified against the system roots and the private CA, never by the proxy.
 */

/** An HTTP(S) proxy for PCE requests. */
export interface PceProxy {
  /** `http://proxy.corp.example:3128`. */
  readonly url: string;
  /** Hosts (`pce.corp.example`, `.corp.example`, `host:port`, `*`) reached without the proxy. */
  readonly noProxy?: readonly string[];
}

export interface DispatcherOptions {
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  /** Extra CAs (PEM) trusted in addition to the system roots. */
  readonly extraCas: readonly string[];
  readonly proxy?: PceProxy;
}

type Undici = typeof import('undici');
let undici: Promise<Undici> | undefined;

/**
 * undici, loaded on first use: a handler that never reaches the PCE (and every handler's
 * initialisation) does without its load and compile, a third of the bundle. undici is CommonJS;
 * a dynamic import of it answers with its exports as named exports under Node.js and in the
 * handler bundles, but with them under `default` only in an ES module bundle that splits at
 * dynamic imports (the command line's), so whichever namespace holds `Agent` is used.
 */
export function loadUndici(): Promise<Undici> {
  undici ??= import('undici').then((namespace) =>
    typeof namespace.Agent === 'function'
      ? namespace
      : // The CommonJS module.exports, which holds every export (undici's types name less).
        (namespace as unknown as { default: Undici }).default,
  );
  return undici;
}

/** Marks errors of the connection to the proxy itself, so that they can be told from the PCE's. */
const PROXY_FAILURE = Symbol('pce-export:proxy-failure');

export async function createDispatcher(options: DispatcherOptions): Promise<Dispatcher> {
  const { Agent, EnvHttpProxyAgent, Pool } = await loadUndici();
  const tls = {
    timeout: options.connectTimeoutMs,
    ...(options.extraCas.length > 0 ? { ca: [...rootCertificates, ...options.extraCas] } : {}),
  };
  const timeouts = { headersTimeout: options.headersTimeoutMs, bodyTimeout: options.bodyTimeoutMs };
  if (!options.proxy) return new Agent({ connect: tls, ...timeouts });
  return new EnvHttpProxyAgent({
    httpProxy: options.proxy.url,
    httpsProxy: options.proxy.url,
    // Given, even when empty, so that NO_PROXY of the process is not read.
    noProxy: (options.proxy.noProxy ?? []).join(','),
    // The hosts of noProxy: straight to the PCE.
    connect: tls,
    // Through the tunnel to the PCE, and to the proxy itself.
    requestTls: tls,
    proxyTls: { timeout: options.connectTimeoutMs },
    clientFactory: (origin: URL, clientOptions: Pool.Options) => {
      const connect = clientOptions.connect;
      return new Pool(origin, {
        ...clientOptions,
        ...(typeof connect === 'function'
          ? {
              connect: (connectOptions, callback) =>
                connect(connectOptions, (error, socket) => {
                  if (error) Object.defineProperty(error, PROXY_FAILURE, { value: true });
                  callback(error as never, socket as never);
                }),
            }
          : {}),
      });
    },
    ...timeouts,
  });
}

/** The undici message of a CONNECT the proxy did not answer with 200. */
const TUNNEL_REFUSED = /^Proxy response \((\d{3})\) !== 200 when HTTP Tunneling/;

/**
 * The error a failure of the proxy itself becomes: PceUnavailable naming the proxy (it is
 * retried like the PCE's unavailability), or undefined when the error is not the proxy's.
 */
export function proxyFailure(
  error: unknown,
  proxy: PceProxy | undefined,
  ctx: { readonly method: string; readonly href: string; readonly origin: string },
): PceUnavailable | undefined {
  if (!proxy) return undefined;
  const where = `${ctx.method} ${ctx.href} failed: the proxy ${new URL(proxy.url).origin}`;
  for (let cause: unknown = error, depth = 0; cause instanceof Error && depth < 5; depth++) {
    const refused = TUNNEL_REFUSED.exec(cause.message);
    if (refused) {
      return new PceUnavailable(
        `${where} refused the tunnel to ${ctx.origin} (CONNECT answered ${statusLine(Number(refused[1]))})`,
        { href: ctx.href, cause: error },
      );
    }
    if ((cause as { [PROXY_FAILURE]?: boolean })[PROXY_FAILURE]) {
      const code = (cause as { code?: unknown }).code;
      return new PceUnavailable(
        `${where} could not be reached (${typeof code === 'string' ? code : cleanText(cause.message, 120)})`,
        { href: ctx.href, cause: error },
      );
    }
    cause = cause.cause;
  }
  return undefined;
}
