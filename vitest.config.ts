import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/support/setup.ts'],
    // Safety nets against a hang only: a loaded machine makes tests slower, never wrong.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    restoreMocks: true,
  },
});
