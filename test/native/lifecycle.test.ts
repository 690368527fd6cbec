/**
 * The addon's lifetime in a forked child, so a crash (double free at exit, a thread left
 * running in a dead isolate) shows up as a non-zero exit rather than taking vitest down:
 * 10 000 reader and watcher open/close cycles with bounded fds and RSS, objects dropped to
 * the GC without close(), Worker threads torn down with live watchers, and a process that
 * exits with a watcher still armed (the env cleanup hook path).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../../src/native/native.js';

const addonPath = fileURLToPath(new URL('../../build/Release/edgegov_native.node', import.meta.url));
const fixture = fileURLToPath(new URL('../fixtures/sysfs/sd8elite-dev/', import.meta.url));
const nativeAvailable = loadNativeAddon().addon !== undefined;
/** Shared with the arm64 check (scripts/arm64/run.mjs), which runs it under emulation. */
const workerTeardownChild = fileURLToPath(new URL('./worker-teardown.child.cjs', import.meta.url));

function runChild(source: string, timeoutMs = 120_000) {
  const dir = mkdtempSync(join(tmpdir(), 'edgegov-life-'));
  const file = join(dir, 'child.cjs');
  writeFileSync(file, source);
  try {
    return spawnSync(process.execPath, ['--expose-gc', file], { encoding: 'utf8', timeout: timeoutMs });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const prelude = `
const fs = require('fs');
const path = require('path');
const addon = require(${JSON.stringify(addonPath)});
const fdCount = () => fs.readdirSync('/proc/self/fd').length;
const rssMiB = () => process.memoryUsage().rss / 1048576;
const zones = fs.readdirSync(${JSON.stringify(fixture)} + 'sys/class/thermal').map(z => path.join(${JSON.stringify(fixture)}, 'sys/class/thermal', z, 'temp'));
const paths = [...zones, ${JSON.stringify(fixture)} + 'proc/meminfo', ${JSON.stringify(fixture)} + 'proc/pressure/memory'];
const kinds = paths.map((p, i) => i < zones.length ? 0 : 1);
let psiOk = false; try { fs.readFileSync('/proc/pressure/memory'); psiOk = true; } catch {}
`;

describe.skipIf(!nativeAvailable)('addon lifetime (forked child)', () => {
  it('10 000 reader and 2 000 PSI-watcher open/close cycles: no fd leak, bounded RSS', () => {
    const r = runChild(`${prelude}
      // N-API finalizers run from the event loop, so cycles go in batches with a turn between.
      const settle = async () => { global.gc(); await new Promise(r => setImmediate(r)); global.gc(); await new Promise(r => setTimeout(r, 20)); };
      (async () => {
        const fd0 = fdCount();
        for (let b = 0; b < 4; b++) { for (let i = 0; i < 500; i++) { const rd = new addon.Reader(paths, kinds); rd.read(); rd.close(); } await settle(); }
        const rssWarm = rssMiB();
        const t0 = Date.now();
        for (let b = 0; b < 20; b++) {
          for (let i = 0; i < 500; i++) {
            const rd = new addon.Reader(paths, kinds);
            const batch = rd.read();
            if (batch.errnos.some(e => e !== 0)) throw new Error('read error ' + Array.from(batch.errnos));
            rd.close();
            // Watchers cost a thread start/join each: every 5th cycle, 2 000 in all. Destroying a
            // real kernel trigger waits for an RCU grace period (~15 ms), so 100 of them are armed.
            if (i % 5 === 0) {
              const w = new addon.PsiWatcher(() => {});
              if (psiOk && i % 100 === 0) w.add('/proc/pressure/memory', 'some 300000 2000000');
              w.close();
            }
          }
          await settle();
        }
        const cyclesMs = Date.now() - t0;
        const fd1 = fdCount();
        const rssEnd = rssMiB();
        // Dropped without close(): the finalizers must close the fds and stop the threads.
        for (let b = 0; b < 20; b++) {
          for (let i = 0; i < 25; i++) { new addon.Reader(paths, kinds).read(); new addon.PsiWatcher(() => {}); }
          await settle();
        }
        await settle();
        console.log(JSON.stringify({ fd0, fd1, fd2: fdCount(), rssWarm, rssEnd, files: paths.length, cyclesMs }));
      })().catch((e) => { console.error(e); process.exit(3); });
    `);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.files).toBeGreaterThan(60);
    expect(out.fd1).toBe(out.fd0);
    expect(out.fd2).toBeLessThanOrEqual(out.fd0 + 2);
    expect(out.rssEnd - out.rssWarm).toBeLessThan(16); // ~11 KB/cycle would be 110 MB if leaked
  }, 150_000);

  it('Worker threads torn down with live readers and armed watchers; exit with a watcher armed', () => {
    const r = spawnSync(process.execPath, ['--expose-gc', workerTeardownChild, addonPath, fixture, '5'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.signal).toBeNull();
    expect(r.status, r.stderr).toBe(0); // 134 would be the double free at exit
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.done).toBe(20);
    expect(out.values).toBe(20 * 66);
    expect(out.fd1).toBeLessThanOrEqual(out.fd0 + 4); // worker message ports settle asynchronously
  }, 120_000);
});
