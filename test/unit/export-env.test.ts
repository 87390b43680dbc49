import { describe, expect, it } from 'vitest';
import { ExportConfigError } from '../../lambdas/contracts/errors';
import {
  normalisePrefix,
  readPceSettings,
  readPollSettings,
  readStorageSettings,
} from '../../lambdas/export/env';

const PCE = { PCE_URL: 'https://pce.example.com:8443', PCE_ORG_ID: '3', PCE_SECRET_ID: 'pce-export/api-key' };

function configError(read: () => unknown): ExportConfigError {
  try {
    read();
  } catch (error) {
    if (error instanceof ExportConfigError) return error;
    throw error;
  }
  throw new Error('expected ExportConfigError');
}

describe('readPceSettings', () => {
  it('reads the PCE and applies the Retry-After and secret-cache defaults', () => {
    expect(readPceSettings(PCE)).toEqual({
      baseUrl: 'https://pce.example.com:8443',
      orgId: 3,
      secretId: 'pce-export/api-key',
      secretCacheSeconds: 300,
      retryAfter: { minSeconds: 1, maxSeconds: 300, defaultSeconds: 5 },
    });
  });

  it('rejects a URL ending in /api/v2, naming what to leave out (the deploy configuration does too)', () => {
    expect(
      configError(() => readPceSettings({ ...PCE, PCE_URL: 'https://scp1.illum.io/api/v2/' })).message,
    ).toBe(
      'Environment variable PCE_URL must be the PCE origin only: leave out /api/v2 and give "https://scp1.illum.io"',
    );
  });

  it.each([
    ['PCE_URL', { PCE_URL: undefined }],
    ['PCE_URL', { PCE_URL: 'http://pce.example.com' }],
    ['PCE_URL', { PCE_URL: 'https://user:pw@pce.example.com' }],
    ['PCE_URL', { PCE_URL: 'https://pce.example.com/other' }],
    ['PCE_URL', { PCE_URL: 'not a url' }],
    ['PCE_ORG_ID', { PCE_ORG_ID: undefined }],
    ['PCE_ORG_ID', { PCE_ORG_ID: 'one' }],
    ['PCE_ORG_ID', { PCE_ORG_ID: '0' }],
    ['PCE_SECRET_ID', { PCE_SECRET_ID: ' ' }],
    ['RETRY_AFTER_MAX_SECONDS', { RETRY_AFTER_MIN_SECONDS: '10', RETRY_AFTER_MAX_SECONDS: '5' }],
    ['RETRY_AFTER_DEFAULT_SECONDS', { RETRY_AFTER_DEFAULT_SECONDS: '900' }],
    ['SECRET_CACHE_SECONDS', { SECRET_CACHE_SECONDS: '-1' }],
  ])('names %s when it is missing or invalid', (name, overrides) => {
    expect(configError(() => readPceSettings({ ...PCE, ...overrides })).message).toContain(name);
  });
});

describe('readPollSettings', () => {
  it('defaults to a 300 s interval cap and 1000 polls', () => {
    expect(readPollSettings({})).toEqual({ maxIntervalSeconds: 300, maxPolls: 1000 });
  });

  it('reads overrides and rejects non-numbers by name', () => {
    expect(readPollSettings({ POLL_MAX_INTERVAL_SECONDS: '30', MAX_POLLS: '12' })).toEqual({
      maxIntervalSeconds: 30,
      maxPolls: 12,
    });
    expect(configError(() => readPollSettings({ MAX_POLLS: '1e3' })).message).toContain('MAX_POLLS');
    expect(configError(() => readPollSettings({ POLL_MAX_INTERVAL_SECONDS: '0' })).message).toContain(
      'POLL_MAX_INTERVAL_SECONDS',
    );
  });
});

describe('readStorageSettings', () => {
  it('reads the bucket and defaults to no prefix, 8 MiB parts and a queue of 4', () => {
    expect(readStorageSettings({ EXPORT_BUCKET: 'my-exports' })).toEqual({
      bucket: 'my-exports',
      prefix: '',
      partSizeBytes: 8 * 1024 * 1024,
      queueSize: 4,
    });
  });

  it('normalises the prefix to end in a slash', () => {
    expect(readStorageSettings({ EXPORT_BUCKET: 'b-1', EXPORT_PREFIX: '/pce/raw' }).prefix).toBe('pce/raw/');
    expect(normalisePrefix('pce/')).toBe('pce/');
    expect(normalisePrefix(undefined)).toBe('');
  });

  it.each([
    ['EXPORT_BUCKET', {}],
    ['EXPORT_BUCKET', { EXPORT_BUCKET: 'Not_A_Bucket' }],
    ['EXPORT_PREFIX', { EXPORT_BUCKET: 'b-1', EXPORT_PREFIX: 'a/../b' }],
    ['EXPORT_PREFIX', { EXPORT_BUCKET: 'b-1', EXPORT_PREFIX: 'a b' }],
    ['UPLOAD_PART_SIZE_MIB', { EXPORT_BUCKET: 'b-1', UPLOAD_PART_SIZE_MIB: '4' }],
    ['UPLOAD_QUEUE_SIZE', { EXPORT_BUCKET: 'b-1', UPLOAD_QUEUE_SIZE: '0' }],
  ])('names %s when it is missing or invalid', (name, env) => {
    expect(configError(() => readStorageSettings(env)).message).toContain(name);
  });
});

describe('plain http PCE URLs', () => {
  it.each(['http://127.0.0.1:18443', 'http://localhost:8080', 'http://[::1]:8443'])(
    'accepts %s because it is on the loopback interface',
    (url) => {
      expect(readPceSettings({ ...PCE, PCE_URL: url }).baseUrl).toBe(new URL(url).origin);
    },
  );

  it('rejects plain http to any other host, naming PCE_URL', () => {
    const error = configError(() => readPceSettings({ ...PCE, PCE_URL: 'http://10.0.0.5:8443' }));

    expect(error.message).toMatch(/PCE_URL must use https/);
  });
});

describe('the proxy of the PCE requests', () => {
  it('is read from PCE_PROXY_URL and PCE_NO_PROXY', () => {
    expect(
      readPceSettings({
        ...PCE,
        PCE_PROXY_URL: 'http://proxy.corp.example:3128',
        PCE_NO_PROXY: 'pce-internal.corp.example, .lab.corp.example',
      }).proxy,
    ).toEqual({
      url: 'http://proxy.corp.example:3128',
      noProxy: ['pce-internal.corp.example', '.lab.corp.example'],
    });
  });

  it('is absent when PCE_PROXY_URL is unset or empty', () => {
    expect(readPceSettings({ ...PCE, PCE_PROXY_URL: '' }).proxy).toBeUndefined();
  });

  it.each([
    [{ PCE_PROXY_URL: 'socks5://proxy:1080' }, /PCE_PROXY_URL must be an http:\/\/ or https:\/\/ proxy URL/],
    [{ PCE_PROXY_URL: 'http://user:pass@proxy:3128' }, /PCE_PROXY_URL must not carry credentials/],
    [{ PCE_PROXY_URL: 'http://proxy:3128', PCE_NO_PROXY: '10.0.0.0/8' }, /PCE_NO_PROXY entry "10.0.0.0\/8"/],
    [{ PCE_NO_PROXY: 'pce.corp.example' }, /PCE_NO_PROXY is set without PCE_PROXY_URL/],
  ])('rejects %j by name', (env, message) => {
    expect(configError(() => readPceSettings({ ...PCE, ...env })).message).toMatch(message);
  });
});
