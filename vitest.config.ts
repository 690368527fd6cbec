import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Child processes, not threads: native addons and daemons under test must not share a V8 isolate.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
