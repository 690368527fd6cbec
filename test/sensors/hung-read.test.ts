/**
 * Research 02 §8 case 13 for real: a battery attribute whose read genuinely blocks. The stand-in
 * is a FIFO the child holds open for writing (so a read on it waits until data arrives), passed
 * off as `current_now` through the binding's `testAllowNonRegular` hook — discovery itself still
 * refuses FIFOs (faults.test.ts). Each binding runs in a child process (hung-read.child.mjs) so a
 * regression that blocks the event loop fails by timeout instead of wedging the runner.
 *
 * What must hold while the read is stuck: the event loop keeps ticking, other sensors keep
 * updating, the battery is marked hung with a reason once the read is past the deadline; data
 * on the FIFO brings it back; close() returns while the reader thread is still waiting, and the
 * process exits.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeAvailable, tempCopy } from './helpers.js';

const dist = fileURLToPath(new URL('../../dist/', import.meta.url));
const child = fileURLToPath(new URL('./hung-read.child.mjs', import.meta.url));
const HUNG_MS = 300; // the child's hungReadMs

interface Read {
  label: string;
  atMs: number;
  ticks: number;
  battery_w: number | null;
  g3d: number | null;
  batteryFaults: string[];
}
interface Out {
  which: string;
  reads: Read[];
  ticksWhileBlocked: number;
  firstHungAtMs: number | null;
  closeMs: number;
  maxReadMs: number;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const cases = [{ which: 'fallback' }, ...(nativeAvailable ? [{ which: 'native' }] : [])];

describe('case 13: a read that really blocks (FIFO stand-in)', () => {
  it.each(cases)('$which: the loop ticks, other sensors update, the battery goes hung and recovers; close and exit do not wait', ({ which }) => {
    expect(existsSync(join(dist, 'sensors/index.js')), 'run `npx tsc -p tsconfig.json` first').toBe(true);
    const c = tempCopy('pixel8');
    cleanups.push(c.cleanup);
    const fifo = join(c.root, '..', 'gauge.fifo');
    execFileSync('mkfifo', [fifo]);
    const r = spawnSync(process.execPath, [child, dist, c.root, fifo, which], { encoding: 'utf8', timeout: 20_000 });
    expect(r.signal, `the child hung (stderr: ${r.stderr})`).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Out;
    const blocked = out.reads.filter((x) => x.label === 'blocked');
    const recovered = out.reads.filter((x) => x.label === 'recovered');
    const again = out.reads.find((x) => x.label === 'blocked-again')!;

    // The event loop ran its 10 ms interval throughout ~600 ms of a stuck read (a blocked loop: 0).
    expect(out.ticksWhileBlocked).toBeGreaterThan(20);
    expect(out.maxReadMs).toBeLessThan(HUNG_MS); // read() never waited on the stuck driver
    // Hung, with a reason, once the read is past the deadline (plus worker boot / scheduling slack).
    expect(out.firstHungAtMs).not.toBeNull();
    expect(out.firstHungAtMs!).toBeLessThan(HUNG_MS + 1500);
    for (const b of blocked) expect(b.battery_w).toBeNull(); // never a stale or zero value
    expect(blocked.at(-1)!.batteryFaults.join(' | ')).toMatch(/power_supply\/battery\/current_now: read hung for \d+\.\d s \(stalled driver\?\); other sensors unaffected/);
    // Another sensor changed while the battery hung, and the snapshot followed it.
    expect(blocked[0]!.g3d).toBeCloseTo(55.87, 2);
    expect(blocked.at(-1)!.g3d).toBeCloseTo(70.5, 2);
    // The driver answers again: -700000 µA at 3.87125 V, discharging → +2.7099 W, no fault.
    const last = recovered.slice(-3);
    for (const x of last) {
      expect(x.battery_w).toBeCloseTo(2.7099, 4);
      expect(x.batteryFaults).toEqual([]);
    }
    // Stuck again past the deadline: hung again.
    expect(again.battery_w).toBeNull();
    expect(again.batteryFaults.join(' | ')).toMatch(/read hung/);
    // close() returned while the reader thread was inside the read; the child then exited (above).
    expect(out.closeMs).toBeLessThan(1000);
  });
});
