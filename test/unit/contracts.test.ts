import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020';
import { describe, expect, it } from 'vitest';
import { executionInputSchema } from '../../lambdas/contracts/input';
import { executionOutputSchema } from '../../lambdas/contracts/output';
import { keyPrefixIssue, orgIdIssue, pceUrlIssue } from '../../lambdas/contracts/patterns';
import { workflowStateSchema } from '../../lambdas/contracts/state';
import { readPceSettings, readStorageSettings } from '../../lambdas/export/env';
import { resolveExportRequest } from '../../lambdas/export/input';
import { parseWorkflowState } from '../../lambdas/export/workflow';
import { collectionRequest, parsePceBase, resolveHref } from '../../lambdas/pce/hrefs';
import { parseConfig } from '../../lib/config';
import { SCHEMA_DIR } from '../../schema/generate';
import { configObject } from '../infra/support';

/*
 * One definition per contract: the published JSON Schema and the runtime zod schema give the
 * same verdict on the same document, and every rule that used to be written twice (and had
 * drifted) now holds in each place that applies it.
 */

const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true, validateFormats: false });
const published = (name: string) =>
  ajv.compile(JSON.parse(readFileSync(join(SCHEMA_DIR, name), 'utf8')) as Record<string, unknown>);
const inputSchema = published('execution-input.schema.json');
const outputSchema = published('execution-output.schema.json');

const OUTPUT = {
  exportName: 'labels',
  bucket: 'exports',
  key: 'pce/labels/dt=2026-03-04/050607Z_nightly.ndjson.gz',
  uri: 's3://exports/pce/labels/dt=2026-03-04/050607Z_nightly.ndjson.gz',
  bytes: 10,
  sha256: 'a'.repeat(64),
  format: 'ndjson',
  gzip: true,
  objectCount: 2,
  jobHref: '/orgs/1/jobs/42',
  polls: 1,
  requestedAt: '2026-03-04T05:06:08.000Z',
  completedAt: '2026-03-04T05:07:00.000Z',
  manifestKey: 'pce/labels/_manifests/dt=2026-03-04/050607Z_nightly.manifest.json',
};

describe('the published execution input schema and the runtime schema', () => {
  it.each<[string, unknown, boolean]>([
    ['a path alone', { path: '/labels' }, true],
    ['a nested path', { path: '/sec_policy/draft/rule_sets' }, true],
    ['a configured export by name', { exportName: 'workloads' }, true],
    ['an export name of 64 characters', { exportName: `a${'b'.repeat(63)}` }, true],
    ['an export name of 65 characters', { exportName: `a${'b'.repeat(64)}` }, false],
    ['an export name starting with "_"', { exportName: '_labels' }, false],
    ['an export name starting with "-"', { exportName: '-labels' }, false],
    ['a path segment starting with "_"', { path: '/_private' }, false],
    ['a path under /orgs', { path: '/orgs/1/labels' }, false],
    ['the path /orgs alone', { path: '/orgs' }, false],
    ['an upper-case path', { path: '/Labels' }, false],
    ['a trailing slash', { path: '/labels/' }, false],
    [
      'number and boolean query values',
      { path: '/workloads', query: { max_results: 5, managed: true } },
      true,
    ],
    ['a query value with ".." in a word', { path: '/labels', query: { name: 'a..b' } }, true],
    ['a query value that is ".."', { path: '/labels', query: { name: '..' } }, false],
    ['a query value with a ".." segment', { path: '/labels', query: { name: 'a/../b' } }, false],
    ['a query value with "?"', { path: '/labels', query: { name: 'a?b' } }, false],
    ['a query value with a control character', { path: '/labels', query: { name: 'a\u0001' } }, false],
    ['a query value of 1024 characters', { path: '/labels', query: { name: 'x'.repeat(1024) } }, true],
    ['a query value of 1025 characters', { path: '/labels', query: { name: 'x'.repeat(1025) } }, false],
    ['a query key with a space', { path: '/labels', query: { 'a b': '1' } }, false],
    ['a nested query value', { path: '/labels', query: { key: { role: 'web' } } }, false],
    ['a wait of a day', { path: '/labels', maxWaitSeconds: 86_400 }, true],
    ['a wait above a day', { path: '/labels', maxWaitSeconds: 86_401 }, false],
    ['a fractional wait', { path: '/labels', maxWaitSeconds: 1.5 }, false],
    ['an unknown format', { path: '/labels', format: 'csv' }, false],
    ['an unknown field', { path: '/labels', bucket: 'elsewhere' }, false],
    ['a relative traffic range', { kind: 'traffic', traffic: { since: 'last 7 days' } }, true],
    ['a relative range in capitals', { kind: 'traffic', traffic: { since: '90 MINUTES' } }, true],
    ['a range that is not a duration', { kind: 'traffic', traffic: { since: 'yesterday' } }, false],
    ['a traffic start given as a date', { kind: 'traffic', traffic: { start: '2026-03-01' } }, true],
    [
      'a traffic start with an offset',
      { kind: 'traffic', traffic: { start: '2026-03-01T00:00+01:00' } },
      true,
    ],
    [
      'a traffic start without its zone',
      { kind: 'traffic', traffic: { start: '2026-03-01T00:00:00' } },
      false,
    ],
    ['a traffic start in the wrong form', { kind: 'traffic', traffic: { start: '01/03/2026' } }, false],
    ['a result cap of 200000', { kind: 'traffic', traffic: { maxResults: 200_000 } }, true],
    ['a result cap above 200000', { kind: 'traffic', traffic: { maxResults: 200_001 } }, false],
    ['a snapshot by name', { snapshot: { name: 'policy-model' } }, true],
    ['a snapshot name starting with "_"', { snapshot: { name: '_policy' } }, false],
    ['a snapshot of no exports', { snapshot: { name: 'morning', exports: [] } }, false],
    [
      'a snapshot of 51 exports',
      { snapshot: { name: 'morning', exports: Array.from({ length: 51 }, (_, i) => `e${i}`) } },
      false,
    ],
    ['a snapshot mixed with export fields', { snapshot: { name: 'morning' }, path: '/labels' }, false],
  ])('agree on %s', (_what, document, valid) => {
    expect(inputSchema(document)).toBe(valid);
    expect(executionInputSchema.safeParse(document).success).toBe(valid);
  });

  // Rules that JSON Schema cannot state (they compare fields or parse values); the published
  // schema lets these through and the handlers reject them, by design and nowhere else.
  it.each<[string, unknown]>([
    ['since together with start', { kind: 'traffic', traffic: { since: '24h', start: '2026-03-01' } }],
    ['an end before its start', { kind: 'traffic', traffic: { start: '2026-03-02', end: '2026-03-01' } }],
    ['a date that does not exist', { kind: 'traffic', traffic: { start: '2026-13-01' } }],
    [
      'a filter actor that is neither an href nor an address',
      { kind: 'traffic', traffic: { sources: { include: ['production'] } } },
    ],
    ['a range longer than 366 days', { kind: 'traffic', traffic: { since: '400d' } }],
    [
      '33 query parameters',
      { path: '/labels', query: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) },
    ],
  ])('leaves %s to the runtime schema alone', (_what, document) => {
    expect(inputSchema(document)).toBe(true);
    expect(executionInputSchema.safeParse(document).success).toBe(false);
  });
});

describe('the published execution output schema and the runtime schema', () => {
  it.each<[string, unknown, boolean]>([
    ['an export output', OUTPUT, true],
    ['an output with a field of a later version', { ...OUTPUT, windows: 3 }, true],
    ['an output without its checksum', { ...OUTPUT, sha256: undefined }, false],
    ['an upper-case checksum', { ...OUTPUT, sha256: 'A'.repeat(64) }, false],
    ['an http uri', { ...OUTPUT, uri: 'https://exports.s3.amazonaws.com/x' }, false],
    ['a completion time without its zone', { ...OUTPUT, completedAt: '2026-03-04T05:07:00' }, false],
    ['a negative size', { ...OUTPUT, bytes: -1 }, false],
    ['an unknown format', { ...OUTPUT, format: 'csv' }, false],
  ])('agree on %s', (_what, document, valid) => {
    const json = JSON.parse(JSON.stringify(document)) as unknown;
    expect(outputSchema(json)).toBe(valid);
    expect(executionOutputSchema.safeParse(json).success).toBe(valid);
  });
});

/** The verdict of a function that throws on what it rejects. */
function accepts(check: () => unknown): boolean {
  try {
    check();
    return true;
  } catch {
    return false;
  }
}

const PCE_ENV = { PCE_ORG_ID: '1', PCE_SECRET_ID: 'pce-export/api-key' };
const configWithUrl = (url: string) => {
  const config = configObject();
  config.pce.url = url;
  return config;
};

describe('one PCE URL rule in the deploy configuration, the Lambda environment and the PCE client', () => {
  it.each<[string, string, boolean]>([
    ['an https origin', 'https://pce.example.com:8443', true],
    ['an https origin with a trailing slash', 'https://pce.example.com:8443/', true],
    ['http on the loopback interface', 'http://127.0.0.1:8443', true],
    ['http on localhost', 'http://localhost:8080', true],
    ['http on another host', 'http://pce.example.com:8443', false],
    ['the /api/v2 path', 'https://pce.example.com:8443/api/v2', false],
    ['the /api/v2 path with a trailing slash', 'https://scp1.illum.io/api/v2/', false],
    ['another path', 'https://pce.example.com/pce', false],
    ['a query', 'https://pce.example.com/?x=1', false],
    ['credentials', 'https://api_1:secret@pce.example.com', false],
    ['another scheme', 'ftp://pce.example.com', false],
  ])('agree on %s', (_what, url, valid) => {
    expect(pceUrlIssue(url) === undefined).toBe(valid);
    expect(accepts(() => parseConfig(configWithUrl(url), 'test'))).toBe(valid);
    expect(accepts(() => readPceSettings({ ...PCE_ENV, PCE_URL: url }))).toBe(valid);
    expect(accepts(() => parsePceBase(url, 1))).toBe(valid);
  });

  it('names /api/v2 as what to leave out, in each place', () => {
    const url = 'https://pce.example.com:8443/api/v2';
    const hint = 'must be the PCE origin only: leave out /api/v2 and give "https://pce.example.com:8443"';

    expect(() => parseConfig(configWithUrl(url), 'test')).toThrow(`pce.url ${hint}`);
    expect(() => readPceSettings({ ...PCE_ENV, PCE_URL: url })).toThrow(
      `Environment variable PCE_URL ${hint}`,
    );
    expect(() => parsePceBase(url, 1)).toThrow(`The PCE URL ${hint}`);
  });
});

describe('one org id rule in the deploy configuration and the Lambda environment', () => {
  const configWithOrg = (orgId: number) => {
    const config = configObject();
    config.pce.orgId = orgId;
    return config;
  };

  it.each<[string, number, boolean]>([
    ['org 1', 1, true],
    ['the largest org id', 2 ** 31 - 1, true],
    ['org 0', 0, false],
    ['a negative org id', -3, false],
    ['a fraction', 1.5, false],
    ['an org id above 2147483647', 2 ** 31, false],
  ])('agree on %s', (_what, orgId, valid) => {
    expect(orgIdIssue(orgId) === undefined).toBe(valid);
    expect(accepts(() => parseConfig(configWithOrg(orgId), 'test'))).toBe(valid);
    expect(
      accepts(() =>
        readPceSettings({ ...PCE_ENV, PCE_URL: 'https://pce.example.com:8443', PCE_ORG_ID: String(orgId) }),
      ),
    ).toBe(valid);
  });

  it('says the same of an org id that is too large, in each place', () => {
    expect(() => parseConfig(configWithOrg(2 ** 31), 'test')).toThrow('pce.orgId must be at most 2147483647');
    expect(() =>
      readPceSettings({ ...PCE_ENV, PCE_URL: 'https://pce.example.com:8443', PCE_ORG_ID: '2147483648' }),
    ).toThrow('Environment variable PCE_ORG_ID must be at most 2147483647, got "2147483648"');
  });
});

describe('one key prefix rule in the deploy configuration, the Lambda environment and the IAM scope', () => {
  it.each<[string, string, boolean]>([
    ['a folder', 'pce/', true],
    ['nested folders', 'pce/raw/', true],
    ['no prefix', '', true],
    ['a "*", which would widen the IAM grant', 'pce*/', false],
    ['a "?", which would widen the IAM grant', 'pce?/', false],
    ['a ".." segment', 'a/../b/', false],
    ['an empty segment', 'a//b/', false],
    ['513 characters', `${'a'.repeat(512)}/`, false],
  ])('agree on %s', (_what, prefix, valid) => {
    const config = configObject();
    config.bucket.prefix = prefix;

    expect(keyPrefixIssue(prefix) === undefined).toBe(valid);
    expect(accepts(() => parseConfig(config, 'test'))).toBe(valid);
    expect(accepts(() => readStorageSettings({ EXPORT_BUCKET: 'exports', EXPORT_PREFIX: prefix }))).toBe(
      valid,
    );
  });
});

describe('one bucket name rule in the deploy configuration and the Lambda environment', () => {
  it.each<[string, string, boolean]>([
    ['a plain name', 'my-exports', true],
    ['a name with dots', 'exports.example.com', true],
    ['two dots in a row', 'exports..example', false],
    ['the xn-- prefix', 'xn--exports', false],
    ['upper case', 'Exports', false],
  ])('agree on %s', (_what, name, valid) => {
    const config = configObject();
    config.bucket.name = name;

    expect(accepts(() => parseConfig(config, 'test'))).toBe(valid);
    expect(accepts(() => readStorageSettings({ EXPORT_BUCKET: name }))).toBe(valid);
  });
});

const STATE = {
  export: { name: 'labels', path: '/labels', query: {}, format: 'ndjson', gzip: true, maxWaitSeconds: 60 },
  execution: { name: 'run-1', startTime: '2026-03-04T05:06:07.890Z' },
  job: {
    href: '/orgs/1/jobs/8f3c0a52-1d8e-4a3e-9f4b-2c1d0e9f8a7b',
    status: 'running',
    polls: 1,
    waitSeconds: 5,
    retryAfterSeconds: 5,
    requestedAt: '2026-03-04T05:06:08.000Z',
    deadline: '2026-03-04T06:06:08.000Z',
    timedOut: false,
  },
};

describe('one export name rule in the execution input and the workflow state', () => {
  it.each<[string, string, boolean]>([
    ['a plain name', 'labels', true],
    ['a name starting with "_"', '_labels', false],
    ['a name of 65 characters', `a${'b'.repeat(64)}`, false],
  ])('agree on %s', (_what, name, valid) => {
    expect(accepts(() => resolveExportRequest({ exportName: name, path: '/labels' }))).toBe(valid);
    expect(accepts(() => parseWorkflowState({ ...STATE, export: { ...STATE.export, name } }, 1))).toBe(valid);
    expect(
      accepts(() => parseWorkflowState({ ...STATE, execution: { ...STATE.execution, snapshot: name } }, 1)),
    ).toBe(valid);
  });
});

describe('one href rule in the PCE client and the workflow state', () => {
  const base = parsePceBase('https://pce.example.com:8443', 1);

  it.each<[string, string, boolean]>([
    ['a uuid', '/orgs/1/jobs/8f3c0a52-1d8e-4a3e-9f4b-2c1d0e9f8a7b', true],
    ['a number', '/orgs/1/jobs/42', true],
    ['an id with "_"', '/orgs/1/jobs/a_b', false],
    ['an id of 65 characters', `/orgs/1/jobs/${'a'.repeat(65)}`, false],
    ['an id starting with "-"', '/orgs/1/jobs/-1', false],
    ['an org with a leading zero', '/orgs/01/jobs/42', false],
  ])('agree on %s', (_what, href, valid) => {
    expect(accepts(() => resolveHref(base, href, 'jobs', 'the job href'))).toBe(valid);
    expect(accepts(() => parseWorkflowState({ ...STATE, job: { ...STATE.job, href } }, 1))).toBe(valid);
  });
});

describe('one collection path rule in the execution input and the PCE client', () => {
  const base = parsePceBase('https://pce.example.com:8443', 1);

  it.each<[string, string, boolean]>([
    ['a collection', '/workloads', true],
    ['a nested collection', '/sec_policy/active/rule_sets', true],
    ['upper case', '/Labels', false],
    ['a "~"', '/labels~', false],
    ['a segment starting with "_"', '/_labels', false],
    ['an org prefix', '/orgs/1/labels', false],
    ['one object', '/labels/3', false],
    ['the collection below an object', '/sec_policy/draft/rule_sets/2/sec_rules', true],
  ])('agree on %s', (_what, path, valid) => {
    expect(accepts(() => resolveExportRequest({ path }))).toBe(valid);
    expect(accepts(() => collectionRequest(base, path))).toBe(valid);
  });
});

describe("one object's href in the execution input", () => {
  it('is refused before anything is sent, naming the collection to export instead', () => {
    expect(() => resolveExportRequest({ path: '/labels/3' })).toThrow(
      'Invalid input: input.path names one object, not a collection: export "/labels" with a query to filter it',
    );
  });
});

describe('one ISO time in the workflow state and the outputs', () => {
  it.each<[string, string, boolean]>([
    ['a time in UTC', '2026-03-04T05:06:07.890Z', true],
    ['a time with an offset', '2026-03-04T23:30:00-02:00', true],
    ['a time without its zone', '2026-03-04T05:06:07', false],
    ['a date alone', '2026-03-04', false],
    ['an hour that does not exist', '2026-03-04T25:00:00Z', false],
  ])('agree on %s', (_what, time, valid) => {
    const state = { ...STATE, execution: { ...STATE.execution, startTime: time } };

    expect(workflowStateSchema.safeParse(state).success).toBe(valid);
    expect(executionOutputSchema.safeParse({ ...OUTPUT, completedAt: time }).success).toBe(valid);
  });
});
