import { defineConfig } from 'vitest/config';

/**
 * End-to-end files that judge wall-clock timing of real processes on the machine they run on
 * (the demo's first tokens against a 1 s target; a memory clamp that must hold still while the
 * daemon samples every 100 ms). Run beside the rest of the suite on 2 shared cores, their
 * predictions are made on a machine that changes under them: they run after the rest, one at a
 * time, with their assertions as they are.
 */
const TIMING_FILES = ['test/demo/demo.test.ts', 'test/serve/governed-serve.test.ts'];

export default defineConfig({
  test: {
    // Child processes, not threads: native addons and daemons under test must not share a V8 isolate.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: TIMING_FILES, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'timing', include: TIMING_FILES, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
