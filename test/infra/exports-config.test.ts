import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { configObject, renderIntrinsics, synthStack } from './support';

/*
 * The configured exports as one S3 object instead of an environment variable: a deployment with
 * 200 exports is as small in the functions' environment (Lambda's limit is 4 KB in all) as one
 * with a single export, and the object holds every export.
 */

function withExports(count: number) {
  const config = configObject();
  config.exports = Array.from({ length: count }, (_, index) => ({
    name: `export-${String(index).padStart(3, '0')}`,
    kind: 'collection',
    path: index % 2 === 0 ? '/labels' : '/workloads',
    query: { key: `value-${index}` },
    format: 'ndjson',
  }));
  return synthStack(config);
}

function environmentBytes(template: ReturnType<typeof withExports>['template'], id: string): number {
  const fn = template.toJSON().Resources[id] as { Properties: { Environment: { Variables: object } } };
  // The size Lambda counts: names and values, once the stack's tokens are resolved to ARNs of a
  // few dozen characters (rendered here as <LogicalId> placeholders of similar length).
  return Object.entries(fn.Properties.Environment.Variables).reduce(
    (sum, [name, value]) => sum + name.length + renderIntrinsics(value).length,
    0,
  );
}

describe('the configured exports object', () => {
  const small = withExports(1);
  const large = withExports(200);

  it('holds all 200 configured exports, keyed and checked by its sha256', () => {
    const config = large.stack.workflow.exportsConfig;
    const body = JSON.parse(config?.body ?? '{}') as { exports: Record<string, { query: object }> };

    expect(Object.keys(body.exports)).toHaveLength(200);
    expect(body.exports['export-137']).toEqual({
      exportName: 'export-137',
      path: '/workloads',
      query: { key: 'value-137' },
      format: 'ndjson',
    });
    expect(config?.sha256).toBe(
      createHash('sha256')
        .update(config?.body ?? '')
        .digest('hex'),
    );
    expect(config?.key).toContain(config?.sha256 ?? 'no hash');
  });

  it("keeps Submit's and the snapshot step's environment as small with 200 exports as with one", () => {
    for (const fn of [large.stack.workflow.submitFunction, large.stack.workflow.snapshotFunction]) {
      const id = large.stack.getLogicalId(fn.node.defaultChild as never);
      const bytes = environmentBytes(large.template, id);
      expect(bytes).toBe(environmentBytes(small.template, id));
      expect(bytes).toBeLessThan(1024);
    }
  });
});
