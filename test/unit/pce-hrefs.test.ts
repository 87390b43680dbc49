import { describe, expect, it } from 'vitest';
import { ExportConfigError } from '../../lambdas/contracts/errors';
import { PceProtocolError } from '../../lambdas/pce/errors';
import { apiUrl, collectionRequest, parsePceBase, resolveHref, showHref } from '../../lambdas/pce/hrefs';

const base = parsePceBase('https://pce.example.com:8443', 1);
const JOB = 'd1775367-1951-4707-aa2e-37a0b9076d31';

describe('parsePceBase', () => {
  it.each([
    ['https://pce.example.com:8443', 'https://pce.example.com:8443'],
    ['https://pce.example.com:8443/', 'https://pce.example.com:8443'],
    ['https://PCE.Example.com', 'https://pce.example.com'],
    ['https://scp1.illum.io:443', 'https://scp1.illum.io'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['https://[::1]:8443', 'https://[::1]:8443'],
  ])('accepts %s as origin %s', (url, origin) => {
    expect(parsePceBase(url, 1)).toEqual({ origin, orgId: 1 });
  });

  it.each([
    ['a path', 'https://pce.example.com:8443/api/v2'],
    ['another path', 'https://pce.example.com/pce'],
    ['a query', 'https://pce.example.com?x=1'],
    ['an empty query', 'https://pce.example.com/?'],
    ['a fragment', 'https://pce.example.com/#top'],
    ['another scheme', 'ftp://pce.example.com'],
    ['no scheme', 'pce.example.com:8443'],
    ['nothing', ''],
  ])('rejects a URL with %s with ExportConfigError', (_label, url) => {
    expect(() => parsePceBase(url, 1)).toThrow(ExportConfigError);
  });

  it('suggests leaving out /api/v2', () => {
    expect(() => parsePceBase('https://pce.example.com:8443/api/v2/', 1)).toThrow(/leave out \/api\/v2/);
  });

  it('rejects user info without echoing it', () => {
    let caught: unknown;
    try {
      parsePceBase('https://api_key:hunter22@pce.example.com', 1);
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(ExportConfigError);
    expect((caught as Error).message).not.toContain('hunter22');
    expect((caught as Error).message).not.toContain('api_key');
  });

  it.each([[0], [-1], [1.5], [Number.NaN], ['1']])('rejects org id %j with ExportConfigError', (orgId) => {
    expect(() => parsePceBase('https://pce.example.com', orgId)).toThrow(ExportConfigError);
  });
});

describe('resolveHref', () => {
  it.each([
    ['a relative href', `/orgs/1/jobs/${JOB}`],
    ['a relative href under /api/v2', `/api/v2/orgs/1/jobs/${JOB}`],
    ['an absolute URL', `https://pce.example.com:8443/api/v2/orgs/1/jobs/${JOB}`],
    ['an absolute URL with an upper-case host', `https://PCE.EXAMPLE.COM:8443/api/v2/orgs/1/jobs/${JOB}`],
  ])('normalises %s to the org-relative job href', (_label, href) => {
    expect(resolveHref(base, href, 'jobs', 'the Location header')).toBe(`/orgs/1/jobs/${JOB}`);
  });

  it('normalises a datafile href', () => {
    expect(
      resolveHref(base, 'https://pce.example.com:8443/api/v2/orgs/1/datafiles/abc-123', 'datafiles', 'x'),
    ).toBe('/orgs/1/datafiles/abc-123');
  });

  it('treats an explicit default port as the same origin', () => {
    const saas = parsePceBase('https://scp1.illum.io', 7);

    expect(resolveHref(saas, 'https://scp1.illum.io:443/api/v2/orgs/7/jobs/abc', 'jobs', 'x')).toBe(
      '/orgs/7/jobs/abc',
    );
  });

  it.each([
    ['another host', `https://evil.example.com:8443/api/v2/orgs/1/jobs/${JOB}`],
    ['another port', `https://pce.example.com:9443/api/v2/orgs/1/jobs/${JOB}`],
    ['another scheme', `http://pce.example.com:8443/api/v2/orgs/1/jobs/${JOB}`],
    ['a protocol-relative URL', `//evil.example.com/api/v2/orgs/1/jobs/${JOB}`],
    ['a javascript URL', 'javascript:alert(1)'],
    ['another org', `/orgs/2/jobs/${JOB}`],
    ['another org with leading zero', `/orgs/01/jobs/${JOB}`],
    ['a dot-dot segment', `/orgs/1/jobs/../datafiles/${JOB}`],
    ['a dot-dot segment in an absolute URL', `https://pce.example.com:8443/api/v2/orgs/2/../1/jobs/${JOB}`],
    ['a single-dot segment', `/orgs/1/./jobs/${JOB}`],
    ['an encoded dot-dot', `/orgs/1/jobs/%2e%2e/${JOB}`],
    ['an upper-case encoded dot-dot', `/orgs/1/jobs/%2E%2E/${JOB}`],
    ['an encoded slash', `/orgs/1/jobs/a%2fb`],
    ['a backslash', `/orgs/1/jobs\\${JOB}`],
    ['a query', `/orgs/1/jobs/${JOB}?x=1`],
    ['a fragment', `/orgs/1/jobs/${JOB}#x`],
    ['user info', `https://user:pw@pce.example.com:8443/api/v2/orgs/1/jobs/${JOB}`],
    ['whitespace', `/orgs/1/jobs/ ${JOB}`],
    ['a newline', `/orgs/1/jobs/${JOB}\n`],
    ['non-ASCII', '/orgs/1/jobs/ｊob'],
    ['a trailing slash', `/orgs/1/jobs/${JOB}/`],
    ['an extra segment', `/orgs/1/jobs/${JOB}/extra`],
    ['a datafile where a job belongs', `/orgs/1/datafiles/${JOB}`],
    ['an id with an underscore', '/orgs/1/jobs/a_b'],
    ['an id longer than 64 characters', `/orgs/1/jobs/${'a'.repeat(65)}`],
    ['a relative path without a leading slash', `orgs/1/jobs/${JOB}`],
    ['an absolute URL outside /api/v2', `https://pce.example.com:8443/orgs/1/jobs/${JOB}`],
    ['an overly long href', `/orgs/1/jobs/${'a'.repeat(5000)}`],
    ['an empty string', ''],
  ])('rejects %s with PceProtocolError', (_label, href) => {
    expect(() => resolveHref(base, href, 'jobs', 'the Location header')).toThrow(PceProtocolError);
  });

  it.each([[undefined], [null], [42], [{ href: '/orgs/1/jobs/x' }]])('rejects a non-string %j', (value) => {
    expect(() => resolveHref(base, value, 'jobs', 'the Location header')).toThrow(PceProtocolError);
  });

  it('names the source, the href and the expected form in the message', () => {
    expect(() => resolveHref(base, `/orgs/2/jobs/${JOB}`, 'jobs', 'the Location header')).toThrow(
      `The Location header "/orgs/2/jobs/${JOB}" names another org than 1; expected a job href /orgs/1/jobs/{id} on https://pce.example.com:8443`,
    );
  });

  it('masks user info when showing an href', () => {
    expect(showHref('https://key:secret@host/x')).toBe('"https://***@host/x"');
  });
});

describe('collectionRequest', () => {
  it('builds the org-scoped URL and the href shown in messages', () => {
    expect(collectionRequest(base, '/labels', { key: 'env', max_results: '10' })).toEqual({
      href: '/orgs/1/labels?key=env&max_results=10',
      url: 'https://pce.example.com:8443/api/v2/orgs/1/labels?key=env&max_results=10',
    });
  });

  it('omits the query string when there is no query', () => {
    expect(collectionRequest(base, '/sec_policy/draft/rule_sets').url).toBe(
      'https://pce.example.com:8443/api/v2/orgs/1/sec_policy/draft/rule_sets',
    );
  });

  it('encodes query values', () => {
    expect(collectionRequest(base, '/workloads', { name: 'a b&c=d' }).href).toBe(
      '/orgs/1/workloads?name=a+b%26c%3Dd',
    );
  });

  it.each([
    ['no leading slash', 'labels'],
    ['a dot-dot segment', '/labels/../../2/labels'],
    ['an empty segment', '//labels'],
    ['a query', '/labels?x=1'],
    ['a fragment', '/labels#x'],
    ['an encoded character', '/labels%2f..'],
    ['an org prefix', '/orgs/1/labels'],
    ['an absolute URL', 'https://evil.example.com/labels'],
  ])('rejects a path with %s with ExportConfigError', (_label, path) => {
    expect(() => collectionRequest(base, path)).toThrow(ExportConfigError);
  });
});

describe('apiUrl', () => {
  it('prefixes /api/v2 on the configured origin', () => {
    expect(apiUrl(base, '/orgs/1/jobs/x')).toBe('https://pce.example.com:8443/api/v2/orgs/1/jobs/x');
  });
});
