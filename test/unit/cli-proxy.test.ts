import { describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/errors';
import { runProxy } from '../../cli/proxy';
import { parseRunArgs } from '../../cli/run-args';

const BASE = ['--pce-url', 'https://pce.example.com:8443', '--org', '1', '--path', '/labels'];

describe('pce-export run --proxy', () => {
  it('goes straight to the PCE without --proxy or HTTPS_PROXY', () => {
    const args = parseRunArgs(BASE, new Date(), { HTTP_PROXY: 'http://ignored.example:3128' });

    expect(args !== 'help' && args.proxy).toBeUndefined();
  });

  it('takes --proxy before HTTPS_PROXY, with the hosts of NO_PROXY reached directly', () => {
    const args = parseRunArgs([...BASE, '--proxy', 'http://proxy.corp.example:3128'], new Date(), {
      HTTPS_PROXY: 'http://other.example:8080',
      NO_PROXY: 'pce-internal.corp.example, .lab.example',
    });

    expect(args !== 'help' && args.proxy).toEqual({
      url: 'http://proxy.corp.example:3128',
      noProxy: ['pce-internal.corp.example', '.lab.example'],
    });
  });

  it('reads https_proxy and no_proxy in lower case too', () => {
    expect(
      runProxy(undefined, { https_proxy: 'http://proxy.example:3128/', no_proxy: 'pce.example' }),
    ).toEqual({
      url: 'http://proxy.example:3128',
      noProxy: ['pce.example'],
    });
  });

  it.each([
    [
      '--proxy',
      'socks5://proxy.example:1080',
      '--proxy must be an http:// or https:// proxy URL, not socks5://',
    ],
    ['--proxy', 'http://proxy.example:3128/path', '--proxy must be only scheme, host and port'],
    ['HTTPS_PROXY', 'proxy.example', 'HTTPS_PROXY must be a URL such as http://proxy.corp.example:3128'],
  ])('names %s when it is not a proxy URL (%s)', (source, value, message) => {
    const call = () =>
      source === '--proxy' ? runProxy(value, {}) : runProxy(undefined, { [source]: value });

    expect(call).toThrow(UsageError);
    expect(call).toThrow(message);
  });

  it('refuses a proxy URL with credentials without echoing them', () => {
    const call = () => runProxy('http://user:hunter2@proxy.example:3128', {});

    expect(call).toThrow('--proxy must not carry credentials');
    expect(call).not.toThrow(/hunter2/);
  });

  it('names a NO_PROXY entry the proxy agent cannot match', () => {
    expect(() => runProxy('http://proxy.example:3128', { NO_PROXY: 'pce.example,10.0.0.0/8' })).toThrow(
      'NO_PROXY entry "10.0.0.0/8" must be a host',
    );
  });
});

describe('pce-export run --retry-window', () => {
  it('leaves the deployed window when it is not given, and takes whole seconds from 0 to 3600', () => {
    const without = parseRunArgs(BASE);
    expect(without !== 'help' && without.retryWindowSeconds).toBeUndefined();

    for (const seconds of [0, 30, 3600]) {
      const args = parseRunArgs([...BASE, '--retry-window', String(seconds)]);
      expect(args !== 'help' && args.retryWindowSeconds).toBe(seconds);
    }
  });

  it.each(['3601', '-1', '1.5', '10s', ''])('is a UsageError for %j', (raw) => {
    expect(() => parseRunArgs([...BASE, '--retry-window', raw])).toThrow(
      new UsageError(
        `--retry-window must be a whole number of seconds from 0 to 3600, not ${JSON.stringify(raw)}`,
      ),
    );
  });
});
