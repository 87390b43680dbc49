/*
 * The rules for the HTTP(S) proxy that PCE traffic goes through: the deploy configuration
 * (`proxy`), the Lambda environment (`PCE_PROXY_URL`, `PCE_NO_PROXY`) and `pce-export run
 * --proxy` all apply these.
 */

/**
 * One `noProxy` entry: a host (`pce.corp.example`), a domain and its subdomains
 * (`.corp.example`, `*.corp.example`), an IPv4 address or a bracketed IPv6 address, each with an
 * optional `:port`, or `*` for every host. CIDR blocks are not matched by the proxy agent.
 */
export const NO_PROXY_ENTRY =
  /^(?:\*|(?:\*?\.)?[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(?::\d{1,5})?|\[[0-9A-Fa-f:.]+\](?::\d{1,5})?)$/;
export const NO_PROXY_ENTRY_RULE =
  'must be a host, a domain (".corp.example" or "*.corp.example"), an IP address, each with an optional ":port", or "*" (CIDR blocks are not supported)';

/**
 * What is wrong with a proxy URL, as a phrase completing "<field> …", or undefined: it must be
 * `http://host:port` or `https://host:port`, with no credentials (they would sit in a Lambda
 * environment variable), no path, query or fragment.
 */
export function proxyUrlIssue(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be a URL such as http://proxy.corp.example:3128';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return `must be an http:// or https:// proxy URL, not ${parsed.protocol}//`;
  if (parsed.username !== '' || parsed.password !== '')
    return 'must not carry credentials: an authenticating proxy is not supported (allow the functions by their subnets instead)';
  if (parsed.pathname !== '/' || parsed.search !== '' || parsed.hash !== '')
    return 'must be only scheme, host and port (no path, query or fragment)';
  return undefined;
}

/** The port a proxy URL connects to (its own, or the scheme's default). */
export function proxyPort(url: string): number {
  const parsed = new URL(url);
  return parsed.port === '' ? (parsed.protocol === 'https:' ? 443 : 80) : Number(parsed.port);
}
