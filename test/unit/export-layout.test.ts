import { describe, expect, it } from 'vitest';
import { MAX_QUERY_METADATA_LENGTH } from '../../lambdas/contracts/limits';
import type { ExportRequest } from '../../lambdas/contracts/state';
import { contentTypeOf } from '../../lambdas/export/formats';
import {
  buildManifest,
  encodeQuery,
  latestKeyFor,
  manifestKeyFor,
  objectKey,
  objectMetadata,
} from '../../lambdas/export/layout';
import { TOOL_VERSION } from '../../lambdas/version';

const request: ExportRequest = {
  name: 'workloads',
  path: '/workloads',
  query: { managed: 'true', labels: '[["/orgs/1/labels/7"]]' },
  format: 'ndjson',
  gzip: true,
  maxWaitSeconds: 600,
};

describe('objectKey', () => {
  const base = {
    prefix: 'pce/',
    exportName: 'workloads',
    executionName: 'nightly',
    startTime: '2026-03-04T05:06:07.890Z',
  };

  it('partitions by the UTC date and names the file by time and execution', () => {
    expect(objectKey({ ...base, format: 'ndjson', gzip: true })).toBe(
      'pce/workloads/dt=2026-03-04/050607Z_nightly.ndjson.gz',
    );
    expect(objectKey({ ...base, format: 'ndjson', gzip: false })).toBe(
      'pce/workloads/dt=2026-03-04/050607Z_nightly.ndjson',
    );
    expect(objectKey({ ...base, format: 'raw', gzip: true })).toBe(
      'pce/workloads/dt=2026-03-04/050607Z_nightly.json.gz',
    );
    expect(objectKey({ ...base, format: 'raw', gzip: false, prefix: '' })).toBe(
      'workloads/dt=2026-03-04/050607Z_nightly.json',
    );
  });

  it('converts a start time with an offset to UTC', () => {
    expect(objectKey({ ...base, startTime: '2026-03-04T23:30:00-02:00', format: 'raw', gzip: false })).toBe(
      'pce/workloads/dt=2026-03-05/013000Z_nightly.json',
    );
  });

  it('replaces characters that do not belong in a key', () => {
    expect(objectKey({ ...base, executionName: '../a b/c', format: 'raw', gzip: false })).toBe(
      'pce/workloads/dt=2026-03-04/050607Z___a_b_c.json',
    );
  });
});

describe('manifest and latest keys', () => {
  it('puts the manifest under _manifests with the same date and name, outside the data partition Athena reads', () => {
    expect(manifestKeyFor('p/w/dt=2026-03-04/050607Z_x.ndjson.gz')).toBe(
      'p/w/_manifests/dt=2026-03-04/050607Z_x.manifest.json',
    );
    expect(manifestKeyFor('p/w/dt=2026-03-04/050607Z_x.json')).toBe(
      'p/w/_manifests/dt=2026-03-04/050607Z_x.manifest.json',
    );
  });

  it('keeps latest.json at the root of the export', () => {
    expect(latestKeyFor('pce/', 'workloads')).toBe('pce/workloads/latest.json');
  });
});

describe('objectMetadata', () => {
  it('carries job href, org, path, URL-encoded query and format', () => {
    expect(objectMetadata({ request, jobHref: '/orgs/1/jobs/j', orgId: 1 })).toEqual({
      'job-href': '/orgs/1/jobs/j',
      org: '1',
      path: '/workloads',
      query: 'managed=true&labels=%5B%5B%22%2Forgs%2F1%2Flabels%2F7%22%5D%5D',
      format: 'ndjson',
      gzip: 'true',
    });
  });

  it('truncates a query too long for S3 metadata and says so', () => {
    const long = { ...request, query: { a: 'x'.repeat(1000), b: 'y'.repeat(1000) } };

    const metadata = objectMetadata({ request: long, jobHref: '/orgs/1/jobs/j', orgId: 1 });

    expect(metadata.query).toHaveLength(MAX_QUERY_METADATA_LENGTH);
    expect(metadata['query-truncated']).toBe('true');
  });

  it('encodes an empty query as an empty string', () => {
    expect(encodeQuery({})).toBe('');
  });
});

describe('buildManifest', () => {
  it('adds the URI and the tool version', () => {
    const manifest = buildManifest({
      exportName: 'workloads',
      bucket: 'b',
      key: 'k.ndjson.gz',
      bytes: 10,
      sha256: 'ab',
      objectCount: 2,
      format: 'ndjson',
      gzip: true,
      contentType: contentTypeOf('ndjson'),
      org: 1,
      path: '/workloads',
      query: {},
      jobHref: '/orgs/1/jobs/j',
      executionName: 'e',
      requestedAt: 'r',
      completedAt: 'c',
    });

    expect(manifest.uri).toBe('s3://b/k.ndjson.gz');
    expect(manifest.tool).toBe(`pce-export/${TOOL_VERSION}`);
    expect(manifest.contentType).toBe('application/x-ndjson');
  });
});
