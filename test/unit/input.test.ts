import { describe, expect, it } from 'vitest';
import { MAX_WAIT_SECONDS_LIMIT } from '../../lambdas/contracts/limits';
import { DEFAULT_MAX_WAIT_SECONDS, resolveExportRequest } from '../../lambdas/export/input';
import { exportNameFromPath } from '../../lambdas/export/kinds';
import { configError } from '../support/errors';

function rejection(input: unknown, configured = {}): string {
  return configError(() => resolveExportRequest(input, configured));
}

describe('resolveExportRequest', () => {
  it('fills every default from a bare path', () => {
    expect(resolveExportRequest({ path: '/workloads' })).toEqual({
      name: 'workloads',
      path: '/workloads',
      query: {},
      format: 'ndjson',
      gzip: true,
      maxWaitSeconds: DEFAULT_MAX_WAIT_SECONDS,
    });
  });

  it('keeps explicit fields and turns number and boolean query values into strings', () => {
    expect(
      resolveExportRequest({
        exportName: 'managed-workloads',
        path: '/workloads',
        query: { managed: true, max_results: 5000 },
        format: 'raw',
        gzip: false,
        maxWaitSeconds: 120,
      }),
    ).toEqual({
      name: 'managed-workloads',
      path: '/workloads',
      query: { managed: 'true', max_results: '5000' },
      format: 'raw',
      gzip: false,
      maxWaitSeconds: 120,
    });
  });

  it('derives the export name from a nested path', () => {
    expect(resolveExportRequest({ path: '/sec_policy/draft/rule_sets' }).name).toBe(
      'sec_policy-draft-rule_sets',
    );
    expect(exportNameFromPath('/labels')).toBe('labels');
  });

  it('uses a configured export and lets the input override its fields', () => {
    const configured = {
      nightly: { path: '/labels', format: 'raw' as const, query: { key: 'role' }, gzip: false },
    };

    expect(resolveExportRequest({ exportName: 'nightly', gzip: true }, configured)).toEqual({
      name: 'nightly',
      path: '/labels',
      query: { key: 'role' },
      format: 'raw',
      gzip: true,
      maxWaitSeconds: DEFAULT_MAX_WAIT_SECONDS,
    });
  });

  it('names an unconfigured export and lists the configured ones', () => {
    expect(rejection({ exportName: 'daily' }, { nightly: { path: '/labels' } })).toBe(
      'Invalid input: export "daily" is not configured (configured: nightly) and input.path is missing',
    );
  });

  it('requires a path when no export name is given', () => {
    expect(rejection({})).toContain('input.path is required');
  });

  it('names the configured export when its own definition is invalid', () => {
    expect(rejection({ exportName: 'broken' }, { broken: { path: 'labels' } })).toContain(
      'export broken.path',
    );
  });

  it.each([[null], [[]], ['/labels'], [42], [undefined]])(
    'rejects %j as input that is not an object',
    (input) => {
      expect(rejection(input)).toBe('input must be a JSON object');
    },
  );

  it('rejects unknown fields by name', () => {
    expect(rejection({ path: '/labels', bucket: 'elsewhere', Path: '/x' })).toContain(
      'input has unknown field(s) bucket, Path',
    );
  });

  it.each([
    ['/orgs/1/labels', 'is relative to the org'],
    ['labels', 'must be an org-relative collection path'],
    ['/labels/', 'must be an org-relative collection path'],
    ['/Labels', 'must be an org-relative collection path'],
    ['//labels', 'must be an org-relative collection path'],
    ['/labels?max_results=1', 'must be an org-relative collection path'],
    ['/labels#x', 'must be an org-relative collection path'],
    ['/labels/../users', 'must be an org-relative collection path'],
    ['/labels/%2e%2e', 'must be an org-relative collection path'],
    ['https://evil.example.com/labels', 'must be an org-relative collection path'],
  ])('rejects the path %j naming input.path', (path, reason) => {
    expect(rejection({ path })).toContain(`input.path ${reason}`);
  });

  it.each([
    ['a "?"', { key: 'role?x=1' }, 'input.query.key must not contain control characters, "?" or "#"'],
    ['a "#"', { key: 'role#frag' }, 'input.query.key must not contain control characters, "?" or "#"'],
    ['a control character', { key: 'a\nb' }, 'input.query.key must not contain control characters'],
    ['path traversal', { key: '../../users' }, 'input.query.key must not contain ".." path traversal'],
    ['an object', { key: { nested: 1 } }, 'input.query.key'],
    ['a bad key', { 'a b': '1' }, 'input.query.a b is not a valid key: query keys are letters, digits'],
    ['a value over 1024 characters', { key: 'x'.repeat(1025) }, 'input.query.key'],
  ])('rejects a query value with %s', (_what, query, message) => {
    expect(rejection({ path: '/labels', query })).toContain(message);
  });

  it('rejects more than 32 query parameters', () => {
    const query = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v']));

    expect(rejection({ path: '/labels', query })).toContain('at most 32 query parameters');
  });

  it.each([
    ['format', { format: 'csv' }],
    ['format', { format: 'NDJSON' }],
    ['gzip', { gzip: 'yes' }],
    ['maxWaitSeconds', { maxWaitSeconds: 0 }],
    ['maxWaitSeconds', { maxWaitSeconds: 1.5 }],
    ['maxWaitSeconds', { maxWaitSeconds: MAX_WAIT_SECONDS_LIMIT + 1 }],
    ['exportName', { exportName: '../etc' }],
    ['exportName', { exportName: 'x'.repeat(65) }],
  ])('rejects a bad %s by name', (field, fields) => {
    expect(rejection({ path: '/labels', ...fields })).toContain(`input.${field}`);
  });

  it('reports every invalid field in one message', () => {
    const message = rejection({ path: 'x', format: 'csv', gzip: 1 });

    expect(message).toContain('input.path');
    expect(message).toContain('input.format');
    expect(message).toContain('input.gzip');
  });
});
