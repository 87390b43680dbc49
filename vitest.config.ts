import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/support/setup.ts'],
    // Safety nets against a hang only: a loaded machine makes tests slower, never wrong.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    // The suite mostly waits (PCE jobs, Wait states, child processes, sockets), so it runs four
    // files at once even on two cores; each file has its own servers, ports and directories.
    maxWorkers: 4,
    restoreMocks: true,
  },
});
