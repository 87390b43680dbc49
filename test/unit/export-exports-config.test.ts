import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { ExportConfigError } from '../../lambdas/contracts/errors';
import {
  type ExportsConfigLocation,
  type GetObject,
  loadConfiguredExports,
  readExportsConfigLocation,
} from '../../lambdas/export/exports-config';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A location for `body` (each test its own, since objects are kept by their hash). */
function locationOf(body: string, key = 'pce/_pce-export/exports.json'): ExportsConfigLocation {
  return { bucket: 'exports', key, sha256: sha256(body) };
}

function serving(body: string | Buffer): ReturnType<typeof vi.fn<GetObject>> {
  return vi.fn<GetObject>(async () => ({ Body: Readable.from([Buffer.from(body)]) as never }));
}

async function configError(load: Promise<unknown>): Promise<string> {
  const error = await load.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ExportConfigError))
    throw new Error(`expected ExportConfigError, got ${String(error)}`);
  return error.message;
}

describe('readExportsConfigLocation', () => {
  it('is undefined when the deployment configures nothing', () => {
    expect(readExportsConfigLocation({})).toBeUndefined();
  });

  it('reads the bucket, key and sha256', () => {
    const sha = sha256('x');
    expect(
      readExportsConfigLocation({
        EXPORTS_CONFIG_BUCKET: 'exports',
        EXPORTS_CONFIG_KEY: 'pce/_pce-export/exports-x.json',
        EXPORTS_CONFIG_SHA256: sha,
      }),
    ).toEqual({ bucket: 'exports', key: 'pce/_pce-export/exports-x.json', sha256: sha });
  });

  it.each([
    [{ EXPORTS_CONFIG_BUCKET: 'exports', EXPORTS_CONFIG_KEY: 'k' }, /EXPORTS_CONFIG_SHA256 is not set/],
    [{ EXPORTS_CONFIG_KEY: 'k', EXPORTS_CONFIG_SHA256: sha256('x') }, /EXPORTS_CONFIG_BUCKET is not set/],
    [
      { EXPORTS_CONFIG_BUCKET: 'Not_A_Bucket', EXPORTS_CONFIG_KEY: 'k', EXPORTS_CONFIG_SHA256: sha256('x') },
      /EXPORTS_CONFIG_BUCKET is not a valid S3 bucket name/,
    ],
    [
      { EXPORTS_CONFIG_BUCKET: 'exports', EXPORTS_CONFIG_KEY: 'k', EXPORTS_CONFIG_SHA256: 'abc' },
      /EXPORTS_CONFIG_SHA256 must be a sha256/,
    ],
  ])('names the variable that is missing or invalid in %j', (env, message) => {
    expect(() => readExportsConfigLocation(env)).toThrow(ExportConfigError);
    expect(() => readExportsConfigLocation(env)).toThrow(message);
  });
});

describe('loadConfiguredExports', () => {
  it('is empty, reading nothing, without a location', async () => {
    const getObject = serving('{}');

    await expect(loadConfiguredExports(undefined, getObject)).resolves.toEqual({
      exports: {},
      snapshots: {},
    });
    expect(getObject).not.toHaveBeenCalled();
  });

  it('reads 200 configured exports and the snapshots from the object, and reads it once per hash', async () => {
    const exports = Object.fromEntries(
      Array.from({ length: 200 }, (_, i) => [
        `export-${i}`,
        { path: `/collection_number_${i}`, format: 'ndjson' },
      ]),
    );
    const body = JSON.stringify({ exports, snapshots: { morning: ['export-1', 'export-199'] } });
    const getObject = serving(body);
    const location = locationOf(body);

    const first = await loadConfiguredExports(location, getObject);
    const second = await loadConfiguredExports(location, getObject);

    expect(Buffer.byteLength(body)).toBeGreaterThan(4096);
    expect(Object.keys(first.exports)).toHaveLength(200);
    expect(first.exports['export-137']).toEqual({ path: '/collection_number_137', format: 'ndjson' });
    expect(first.snapshots).toEqual({ morning: ['export-1', 'export-199'] });
    expect(second).toBe(first);
    expect(getObject).toHaveBeenCalledTimes(1);
    expect(getObject).toHaveBeenCalledWith('exports', 'pce/_pce-export/exports.json');
  });

  it('never uses an object whose bytes do not hash to the deployed sha256', async () => {
    const deployed = JSON.stringify({ exports: { labels: { path: '/labels' } }, snapshots: {} });
    const tampered = deployed.replace('/labels', '/workloads');

    const message = await configError(loadConfiguredExports(locationOf(deployed), serving(tampered)));

    expect(message).toContain('s3://exports/pce/_pce-export/exports.json does not hash to the sha256');
    expect(message).toContain(sha256(deployed).slice(0, 12));
    expect(message).toContain(sha256(tampered).slice(0, 12));
  });

  it.each([
    ['not JSON', 'not json {', /is not valid JSON/],
    ['an array', '[1, 2]', /is malformed/],
    [
      'an export that is not an object',
      '{"exports": {"labels": "/labels"}, "snapshots": {}}',
      /is malformed: configuration\.exports\.labels/,
    ],
    [
      'snapshots that are not lists',
      '{"exports": {}, "snapshots": {"morning": "labels"}}',
      /is malformed: configuration\.snapshots\.morning/,
    ],
  ])('rejects an object that is %s, naming it', async (_what, body, message) => {
    expect(await configError(loadConfiguredExports(locationOf(body), serving(body)))).toMatch(message);
  });

  it.each(['NoSuchKey', 'AccessDenied'])(
    'turns S3 %s into ExportConfigError naming the object',
    async (name) => {
      const error = Object.assign(new Error('S3 says no'), { name });
      const getObject = vi.fn<GetObject>(async () => {
        throw error;
      });

      const message = await configError(loadConfiguredExports(locationOf(`{"${name}": 1}`), getObject));

      expect(message).toBe(
        `The configured exports object s3://exports/pce/_pce-export/exports.json cannot be read (${name}); deploy the stack again`,
      );
    },
  );

  it("passes S3's transient failures through unchanged, so that they are retried", async () => {
    const slowDown = Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown' });
    const getObject = vi.fn<GetObject>(async () => {
      throw slowDown;
    });

    await expect(loadConfiguredExports(locationOf('{"transient": 1}'), getObject)).rejects.toBe(slowDown);
  });
});
