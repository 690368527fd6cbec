/**
 * A reader thread inside a read() that nothing can interrupt (a wedged regular sysfs file; here
 * a FIFO read without the stop-aware poll, via the testUninterruptible hook) cannot be joined.
 * close() waits a bounded time, then detaches it; the thread owns its fds and shared state and
 * frees them when the read returns. Worker teardown and process exit must not wait for it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { nativeAvailable } from '../../src/native/native.js';

const dist = fileURLToPath(new URL('../../dist/', import.meta.url));
const child = fileURLToPath(new URL('./detach.child.mjs', import.meta.url));

describe.skipIf(!nativeAvailable())('native reader: a thread stuck in read() never holds up close, worker exit or process exit', () => {
  it('open/close cycles leave no thread or fd; close() returns (detached), the released thread cleans up alone, a worker exits, the process exits', () => {
    expect(existsSync(join(dist, 'native/native.js')), 'run `npx tsc -p tsconfig.json` first').toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'edgegov-detach-'));
    try {
      const fifo = join(dir, 'gauge.fifo');
      execFileSync('mkfifo', [fifo]);
      const regular = join(dir, 'temp');
      writeFileSync(regular, '48250\n');
      const r = spawnSync(process.execPath, [child, dist, fifo, regular], { encoding: 'utf8', timeout: 20_000 });
      expect(r.signal, `the child hung (stderr: ${r.stderr})`).toBeNull();
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number | boolean>;
      // 2000 open/read/close cycles of a reader with a thread: every thread joined, every fd closed,
      // and the threaded read returned the same value as the fast path each time.
      expect(out.cycleFdDelta).toBe(0);
      expect(out.cycleTaskDelta).toBe(0);
      expect(out.cycleAgree).toBe(2000);
      expect(out.pendingMs as number).toBeGreaterThan(0); // it really was inside the read
      expect(out.regularValue).toBe(48250); // the file on the fast path read regardless
      expect(out.closeMs as number).toBeLessThan(1000); // bounded join wait, then detached
      expect(out.aliveAfterRelease).toBe(true);
      expect(out.workerExitMs as number).toBeLessThan(5000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
