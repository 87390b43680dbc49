import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TOOL_NAME, TOOL_VERSION } from '../../lambdas/version';

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  name: string;
  version: string;
};

describe('version', () => {
  it("keeps TOOL_VERSION equal to package.json's version", () => {
    expect(TOOL_VERSION).toBe(packageJson.version);
  });

  it("keeps TOOL_NAME equal to package.json's name", () => {
    expect(TOOL_NAME).toBe(packageJson.name);
  });
});
