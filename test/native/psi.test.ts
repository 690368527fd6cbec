/**
 * Real PSI on this machine: triggers registered on /proc/pressure/memory through the native
 * addon, the kernel's last-byte rule, the 2 s retry when unprivileged, a dead trigger when a
 * cgroup is removed, and a real pressure event from real memory pressure in a memory-limited
 * cgroup. Skipped (with the reason printed) only where the kernel or privileges forbid it.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { PressureEvent } from '../../src/native/binding-interface.js';
import { ERRNO } from '../../src/native/binding-interface.js';
import { createFallbackBinding } from '../../src/native/fallback.js';
import { createNativeBinding, loadNativeAddon } from '../../src/native/native.js';
import { openSensorsSync } from '../../src/sensors/index.js';
import { makeMemoryCgroup } from './cgroup.js';

const addon = loadNativeAddon().addon;
const PSI = '/proc/pressure/memory';
const psiReadable = (() => {
  try {
    readFileSync(PSI, 'utf8');
    return true;
  } catch (err) {
    console.warn(`PSI tests skipped: ${PSI}: ${(err as NodeJS.ErrnoException).code}`);
    return false;
  }
})();
/** CAP_SYS_RESOURCE (bit 24) decides whether sub-2 s windows are allowed on ≥ 6.4 kernels. */
const privileged = (() => {
  const m = /CapEff:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? (BigInt('0x' + m[1]) & (1n << 24n)) !== 0n : false;
})();
const kernel = (() => {
  const [maj, min] = readFileSync('/proc/sys/kernel/osrelease', 'utf8').split('.').map(Number);
  return maj! * 100 + min!;
})();
const unprivilegedNew = !privileged && kernel >= 604;

describe.skipIf(!addon || !psiReadable)('real PSI triggers (native)', () => {
  it('the kernel rule on the last byte: strlen bytes chop the window, strlen+1 keeps it', () => {
    const text = 'some 150000 2000000';
    expect(addon!.probeTrigger(PSI, text, true)).toBe(0);
    // Without the NUL the kernel reads "some 150000 200000": a 0.2 s window, which an
    // unprivileged writer on ≥ 6.4 may not use (and < 6.4 rejects below 500 ms).
    if (unprivilegedNew || kernel < 604) expect(addon!.probeTrigger(PSI, text, false)).toBe(-ERRNO.EINVAL);
  });

  it('registers a real trigger; a 1 s window is refused unprivileged and the 2 s retry is armed', () => {
    const binding = createNativeBinding(addon!);
    const src = openSensorsSync({ sysfsRoot: '/', binding, log: () => {} });
    try {
      src.onPressure(() => {});
      const [some, full] = src.pressureStatus().triggers;
      expect(some!.mechanism).toBe('kernel-trigger');
      if (unprivilegedNew) {
        expect(some!.refusals).toEqual(['some 150000 1000000: EINVAL']);
        expect(some!.armed).toBe('some 300000 2000000');
        expect(full!.armed).toBe('full 200000 2000000');
      } else {
        expect(some!.armed).toBe('some 150000 1000000');
      }
      // Above 10 s the kernel refuses outright.
      const r = binding.watchPressure({ path: PSI, kind: 'some', stallUs: 150000, windowUs: 12_000_000 }, () => {});
      expect(r).toMatchObject({ ok: false, errno: ERRNO.EINVAL, code: 'EINVAL' });
    } finally {
      src.close();
      binding.close();
    }
  });

  it('the fallback binding polls the real file instead', () => {
    const b = createFallbackBinding();
    const r = b.watchPressure({ path: PSI, kind: 'some', stallUs: 300000, windowUs: 2000000 }, () => {});
    expect(r.ok && r.handle.mechanism).toBe('poll-total');
    b.close();
  });
});

describe.skipIf(!addon)('trigger safety', () => {
  it('a regular file (a fixture) is refused with EOPNOTSUPP and never written', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'edgegov-psi-'));
    const file = join(dir, 'memory');
    const text = 'some avg10=1.00 avg60=0.50 avg300=0.10 total=1234\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=10\n';
    writeFileSync(file, text);
    const b = createNativeBinding(addon!);
    try {
      expect(b.watchPressure({ path: file, kind: 'some', stallUs: 300000, windowUs: 2000000 }, () => {})).toMatchObject({ ok: false, code: 'EOPNOTSUPP' });
      expect(addon!.probeTrigger(file, 'some 1 2000000', true)).toBe(-ERRNO.EOPNOTSUPP);
      expect(readFileSync(file, 'utf8')).toBe(text);
    } finally {
      b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const cgSetup = addon && psiReadable ? makeMemoryCgroup(64 << 20) : { why: 'no addon or no PSI' };
if (!cgSetup.cg) console.warn(`cgroup PSI tests skipped: ${cgSetup.why}`);
else cgSetup.cg.remove(); // probe only; each test makes its own

describe.skipIf(!cgSetup.cg)('PSI in a memory-limited cgroup (real pressure)', () => {
  it('real memory pressure fires the trigger (native and the polling fallback); rmdir kills it (POLLERR → gone)', async () => {
    const { cg } = makeMemoryCgroup(64 << 20);
    expect(cg).toBeDefined();
    const native = createNativeBinding(addon!);
    const fallback = createFallbackBinding();
    const events: { who: string; ev: PressureEvent; latencyMs: number }[] = [];
    const listen = (who: string) => (ev: PressureEvent) =>
      events.push({ who, ev, latencyMs: Number(process.hrtime.bigint()) / 1e6 - ev.monoMs });
    try {
      const spec = { path: cg!.pressurePath, kind: 'some' as const, stallUs: 1000, windowUs: 2_000_000 };
      const n = native.watchPressure(spec, listen('native'));
      const f = fallback.watchPressure(spec, listen('fallback'));
      expect(n.ok && n.handle.mechanism).toBe('kernel-trigger');
      expect(f.ok && f.handle.mechanism).toBe('poll-total');
      // A child in the group allocates past the limit with no swap: reclaim stalls, then the
      // OOM killer ends it; repeated until both listeners have seen an event (or the deadline).
      const alloc = `${JSON.stringify(process.execPath)} -e 'const a=[]; for(let i=0;i<200;i++) a.push(Buffer.alloc(1<<20,1))'`;
      const child = spawn('sh', ['-c', `${cg!.enterScript}; while true; do ${alloc} 2>/dev/null; done`], { stdio: 'ignore', detached: true });
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && !(events.some((e) => e.who === 'native') && events.some((e) => e.who === 'fallback'))) {
        await new Promise((r) => setTimeout(r, 100));
      }
      try {
        process.kill(-child.pid!, 'SIGKILL'); // the whole group: sh and its current node child
      } catch {
        /* already gone */
      }
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
      const total = Number(/some .*total=(\d+)/.exec(readFileSync(cg!.pressurePath, 'utf8'))?.[1]);
      expect(total, 'the cgroup saw real memory stalls').toBeGreaterThan(1000);
      const nat = events.find((e) => e.who === 'native' && e.ev.type === 'fired');
      expect(nat, 'native trigger fired').toBeDefined();
      expect(events.some((e) => e.who === 'fallback' && e.ev.type === 'fired')).toBe(true);
      expect(nat!.latencyMs).toBeGreaterThanOrEqual(0);
      // Removing the group kills the trigger: one "gone", not an endless POLLERR stream.
      events.length = 0;
      cg!.remove();
      const until = Date.now() + 5000;
      while (Date.now() < until && !events.some((e) => e.who === 'native' && e.ev.type === 'gone')) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
      expect(events.filter((e) => e.who === 'native').map((e) => e.ev.type)).toEqual(['gone']);
    } finally {
      native.close();
      fallback.close();
      if (existsSync(cg!.pressurePath)) cg!.remove();
    }
  }, 40_000);
});
