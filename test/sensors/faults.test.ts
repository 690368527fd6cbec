/**
 * The fifteen fault cases of research 02 §8: each yields its documented outcome (a health
 * state with a reason, a fallback, or a rediscovery) and never a crash or a hung loop.
 * Kernel behaviours a file tree cannot express (EAGAIN/ENODEV reads, EPERM/EINVAL/EBUSY trigger
 * refusals, POLLERR) go through the mock binding; the real-kernel PSI checks are in
 * test/native/psi.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, unlinkSync, writeFileSync, mkdirSync, symlinkSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ERRNO } from '../../src/native/binding-interface.js';
import { createFallbackBinding } from '../../src/native/fallback.js';
import { createMockBinding } from '../../src/native/mock.js';
import { pollPressure } from '../../src/native/poll-pressure.js';
import { parsePsi } from '../../src/native/psi-text.js';
import { openSensorsSync, type SensorSnapshot } from '../../src/sensors/index.js';
import { twoSecondSpec } from '../../src/sensors/pressure.js';
import { toCelsius } from '../../src/sensors/temperature.js';
import { fixture, manualTimers, tempCopy } from './helpers.js';

const silent = () => {};
const reasonsFor = (s: SensorSnapshot, signal: string) => s.faults.filter((f) => f.signal === signal).map((f) => f.reason).join(' | ');
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
function copy(name: string) {
  const c = tempCopy(name);
  cleanups.push(c.cleanup);
  return c.root;
}

describe('case 1: PSI missing', () => {
  it('ENOENT: no psi signals, a reason naming the kernel config, and the vmstat estimate instead', () => {
    const root = copy('fault-meminfo-old');
    const timers = manualTimers();
    const src = openSensorsSync({ sysfsRoot: root, binding: createFallbackBinding(), log: silent, timers });
    const a = src.read();
    expect(a.signals.psi_mem_some_avg10).toBeUndefined();
    expect(reasonsFor(a, 'psi_mem_some_avg10')).toMatch(/CONFIG_PSI/);
    expect(src.discovery.psi.available).toBe(false);
    // Refaults grow by 19 106 pages in 1 s against a file LRU of 191 059 pages: 10 %/s.
    const vm = join(root, 'proc/vmstat');
    writeFileSync(vm, readFileSync(vm, 'utf8').replace('workingset_refault 912044', 'workingset_refault 931150'));
    timers.advance(1000);
    const b = src.read();
    expect(b.signals.mem_thrash_pct).toBeCloseTo(10, 0);
    // Subscribers still get pressure notices, from vmstat, when thrashing is heavy.
    const seen: string[] = [];
    src.onPressure((n) => seen.push(n.mechanism));
    writeFileSync(vm, readFileSync(vm, 'utf8').replace('workingset_refault 931150', 'workingset_refault 1031150'));
    timers.advance(1000);
    src.read();
    expect(seen).toEqual(['vmstat']);
    expect(src.pressureStatus().triggers).toEqual([]);
    src.close();
  });

  it('EACCES (Android SELinux) on the pressure file: psi missing with a permission reason, other signals intact', () => {
    const mock = createMockBinding({ passthrough: true });
    const root = fixture('pixel8');
    mock.fail(join(root, 'proc/pressure/memory'), ERRNO.EACCES);
    const src = openSensorsSync({ sysfsRoot: root, binding: mock, log: silent });
    const s = src.read();
    expect(s.signals.psi_mem_some_avg10).toBeUndefined();
    expect(reasonsFor(s, 'psi_mem_some_avg10')).toMatch(/permission denied/);
    expect(s.signals.soc_c).toBeCloseTo(61.345, 3);
    src.close();
  });
});

describe('case 2: trigger creation rejected', () => {
  it('EINVAL for a 1 s window (unprivileged, ≥ 6.4): retried with a 2 s window and the same stall fraction', () => {
    const mock = createMockBinding({ passthrough: true });
    mock.refuse = (spec) => (spec.windowUs % 2_000_000 === 0 ? 0 : ERRNO.EINVAL);
    const src = openSensorsSync({ sysfsRoot: fixture('pixel8'), binding: mock, log: silent });
    src.onPressure(() => {});
    expect(mock.attempts.map((a) => `${a.text}=${a.errno}`)).toEqual([
      'some 150000 1000000=22',
      'some 300000 2000000=0',
      'full 100000 1000000=22',
      'full 200000 2000000=0',
    ]);
    expect(src.pressureStatus().triggers.map((t) => [t.armed, t.mechanism])).toEqual([
      ['some 300000 2000000', 'kernel-trigger'],
      ['full 200000 2000000', 'kernel-trigger'],
    ]);
    src.close();
    expect(mock.armed.every((a) => a.closed)).toBe(true);
  });

  it('EBUSY: retried once on a fresh fd', () => {
    const mock = createMockBinding({ passthrough: true });
    let n = 0;
    mock.refuse = () => (n++ === 0 ? ERRNO.EBUSY : 0);
    const src = openSensorsSync({ sysfsRoot: fixture('pixel8'), binding: mock, log: silent, psiTriggers: [{ kind: 'some', stallUs: 300000, windowUs: 2000000 }] });
    src.onPressure(() => {});
    expect(mock.attempts.map((a) => a.errno)).toEqual([ERRNO.EBUSY, 0]);
    src.close();
  });

  it('EPERM (< 6.4 without CAP_SYS_RESOURCE): falls back to polling total= and says so', () => {
    const root = copy('pixel8');
    const mock = createMockBinding({ passthrough: true });
    mock.refuse = () => ERRNO.EPERM;
    const timers = manualTimers();
    const src = openSensorsSync({ sysfsRoot: root, binding: mock, log: silent, timers, psiTriggers: [{ kind: 'some', stallUs: 150000, windowUs: 1000000 }] });
    const fired: string[] = [];
    src.onPressure((n) => fired.push(`${n.mechanism}:${n.trigger}`));
    const st = src.pressureStatus().triggers[0]!;
    expect(st.mechanism).toBe('poll-total');
    expect(st.armed).toBe('some 300000 2000000');
    expect(st.refusals).toEqual(['some 150000 1000000: EPERM']);
    expect(reasonsFor(src.read(), 'psi_mem_some_avg10')).toMatch(/polling total= instead/);
    // 400 ms of stall inside the 2 s window → one event from the poller.
    const psi = join(root, 'proc/pressure/memory');
    writeFileSync(psi, readFileSync(psi, 'utf8').replace('total=412938811', 'total=413338811'));
    timers.advance(600);
    expect(fired).toEqual(['poll-total:some 300000 2000000']);
    src.close();
    expect(timers.pending()).toBe(0);
  });
});

describe('case 3: the kernel overwrites the last byte with NUL', () => {
  it('every binding writes the same text, and the 2 s retry keeps all seven digits', () => {
    expect(twoSecondSpec({ path: 'x', kind: 'some', stallUs: 150000, windowUs: 1000000 })).toMatchObject({ stallUs: 300000, windowUs: 2000000 });
    // The real-kernel check (strlen bytes → EINVAL, strlen+1 → accepted) is in test/native/psi.test.ts.
  });
});

describe('case 4: dead PSI trigger (POLLERR)', () => {
  it('is reported, re-armed after a pause, and after repeated deaths replaced by polling; never a spin', () => {
    const mock = createMockBinding({ passthrough: true });
    const timers = manualTimers();
    const src = openSensorsSync({ sysfsRoot: fixture('pixel8'), binding: mock, log: silent, timers, psiTriggers: [{ kind: 'some', stallUs: 300000, windowUs: 2000000 }] });
    src.onPressure(() => {});
    expect(mock.attempts).toHaveLength(1);
    expect(mock.kill()).toBe(1);
    expect(reasonsFor(src.read(), 'psi_mem_some_avg10')).toMatch(/died \(POLLERR/);
    expect(src.pressureStatus().triggers[0]!.mechanism).toBe('none');
    timers.advance(4999);
    expect(mock.attempts).toHaveLength(1); // no retry before the pause
    timers.advance(1);
    expect(mock.attempts).toHaveLength(2);
    for (let i = 0; i < 2; i++) {
      mock.kill();
      timers.advance(5000);
    }
    // Three deaths: the fourth arming polls total= instead of asking the kernel again.
    expect(mock.attempts).toHaveLength(3);
    expect(src.pressureStatus().triggers[0]).toMatchObject({ mechanism: 'poll-total', deaths: 3 });
    src.close();
  });
});

describe('case 5: PSI text variants', () => {
  it('a file without a full line, with unknown keys and avg10=100.00 still reads', () => {
    const src = openSensorsSync({ sysfsRoot: fixture('fault-psi-variants'), binding: createFallbackBinding(), log: silent });
    const s = src.read();
    expect(s.signals.psi_mem_some_avg10).toBe(100);
    expect(s.signals.psi_mem_full_avg10).toBeUndefined();
    expect(reasonsFor(s, 'psi_mem_full_avg10')).toMatch(/no full line/);
    src.close();
  });

  it('parser: irq with only full, cpu with only some, junk lines ignored', () => {
    expect(parsePsi('full avg10=0.02 avg60=0.01 avg300=0.00 total=1836402\n')).toEqual({ full: { avg10: 0.02, avg60: 0.01, avg300: 0, totalUs: 1836402 } });
    expect(parsePsi('garbage\nsome avg10=x total=5\n').some).toEqual({ avg10: undefined, avg60: undefined, avg300: undefined, totalUs: 5 });
  });

  it('a decreasing total (a new cgroup at the same path) restarts the window instead of firing or going negative', () => {
    const timers = manualTimers();
    const totals = [1_000_000, 1_100_000, 200, 300, 500_000];
    let i = 0;
    const fired: number[] = [];
    const r = pollPressure(
      { path: 'mem.pressure', kind: 'some', stallUs: 300_000, windowUs: 2_000_000 },
      (ev) => fired.push(ev.monoMs),
      timers,
      () => ({ source: () => `some avg10=0.00 avg60=0.00 avg300=0.00 total=${totals[Math.min(i++, totals.length - 1)]}\n`, close() {} }),
    );
    expect(r.ok).toBe(true);
    timers.advance(1500); // 1 000 000 → 1 100 000 → reset → 300 → 500 000
    expect(fired).toHaveLength(1); // only the +499 800 µs after the reset crosses 300 ms
    if (r.ok) r.handle.close();
    expect(timers.pending()).toBe(0);
  });
});

describe('case 6: thermal read errors', () => {
  for (const [code, errno, re] of [
    ['EAGAIN', ERRNO.EAGAIN, /no sample yet \(EAGAIN\)/],
    ['ENODATA', ERRNO.ENODATA, /no sample yet \(ENODATA\)/],
    ['EIO', ERRNO.EIO, /sensor error \(EIO\)/],
    ['EINVAL', ERRNO.EINVAL, /sensor error \(EINVAL\)/],
  ] as const) {
    it(`${code}: that zone is faulty with a reason, the others still read`, () => {
      const mock = createMockBinding({ passthrough: true });
      const root = fixture('pixel8');
      const src = openSensorsSync({ sysfsRoot: root, binding: mock, log: silent });
      const tpu = src.discovery.zones.find((z) => z.type === 'TPU')!;
      mock.fail(tpu.tempPath, errno);
      const s = src.read();
      expect(s.signals['zone.TPU']).toBeUndefined();
      expect(reasonsFor(s, 'zone.TPU')).toMatch(re);
      expect(s.signals.soc_c).toBeCloseTo(58.213, 3); // BIG is now the hottest SoC zone
      expect(src.zoneHealth().find((h) => h.type === 'TPU')).toMatchObject({ health: 'faulty' });
      mock.clear(tpu.tempPath);
      expect(src.read().signals['zone.TPU']).toBeCloseTo(61.345, 3); // recovers on the next read
      src.close();
    });
  }

  it('ENODEV on a kept descriptor: rediscovery after the minimum gap, not in a tight loop', () => {
    const mock = createMockBinding({ passthrough: true });
    const timers = manualTimers();
    const src = openSensorsSync({ sysfsRoot: fixture('pixel8'), binding: mock, log: silent, timers, rediscoverGapMs: 2000 });
    const first = src.discovery;
    const big = first.zones.find((z) => z.type === 'BIG')!;
    mock.fail(big.tempPath, ERRNO.ENODEV);
    expect(reasonsFor(src.read(), 'zone.BIG')).toMatch(/device gone \(ENODEV\); rediscovering/);
    src.read();
    expect(src.discovery).toBe(first); // within the gap: no rescan storm
    timers.advance(2000);
    mock.clear(big.tempPath);
    const s = src.read();
    expect(src.discovery).not.toBe(first);
    expect(s.signals['zone.BIG']).toBeCloseTo(58.213, 3);
    src.close();
  });
});

describe('case 7: garbage temperatures', () => {
  it('sentinels, mixed units, spikes, non-numbers and empty reads', () => {
    const src = openSensorsSync({ sysfsRoot: fixture('fault-garbage-temps'), binding: createFallbackBinding(), log: silent });
    const s = src.read();
    expect(s.signals['zone.cpu-0-0-usr']).toBe(52.375);
    expect(reasonsFor(s, 'zone.mtktspa')).toMatch(/sentinel value -127000/);
    expect(reasonsFor(s, 'zone.tsens_tz_sensor1')).toMatch(/sentinel value -273000/);
    expect(reasonsFor(s, 'zone.tsens_tz_sensor2')).toMatch(/sentinel value 0/);
    expect(reasonsFor(s, 'zone.tsens_tz_sensor3')).toMatch(/sentinel value 2147483647/);
    expect(s.signals['zone.tsens_tz_sensor4']).toBe(30); // °C
    expect(s.signals['zone.tsens_tz_sensor5']).toBe(30.9); // d°C
    expect(s.signals['zone.tsens_tz_sensor6']).toBe(32.636); // m°C
    expect(reasonsFor(s, 'zone.gpuss-0-usr')).toMatch(/implausible raw value 250000/);
    expect(reasonsFor(s, 'zone.xo-therm')).toMatch(/not an integer/);
    expect(reasonsFor(s, 'zone.pa_therm0')).toMatch(/no sample yet \(ENODATA\)/);
    expect(s.signals.soc_c).toBe(52.375); // the spike never reaches soc_c
    src.close();
  });

  it('a jump beyond the slew limit is held once and accepted when the next reading confirms it', () => {
    const st = {};
    expect(toCelsius(50000, st)).toEqual({ ok: true, tempC: 50 });
    expect(toCelsius(95000, st)).toMatchObject({ ok: false, reason: expect.stringMatching(/implausible jump/) });
    expect(toCelsius(94000, st)).toEqual({ ok: true, tempC: 94 });
    const st2 = {};
    toCelsius(50000, st2);
    expect(toCelsius(120000, st2).ok).toBe(false);
    expect(toCelsius(51000, st2)).toEqual({ ok: true, tempC: 51 }); // the spike was a glitch
  });
});

describe('case 8: non-temperature zones', () => {
  it('a BCL zone reading 99000 (would be 99 °C) never reaches soc_c', () => {
    const root = copy('sd8elite-dev');
    const vbat = openSensorsSync({ sysfsRoot: root, binding: createFallbackBinding(), log: silent });
    const z = vbat.discovery.zones.find((x) => x.type === 'vbat')!;
    vbat.close();
    writeFileSync(z.tempPath, '99000\n');
    const src = openSensorsSync({ sysfsRoot: root, binding: createFallbackBinding(), log: silent });
    const s = src.read();
    expect(s.signals.soc_c).toBe(78.412);
    expect(s.signals['zone.vbat']).toBeUndefined();
    src.close();
  });
});

describe('case 9: zone identity drift', () => {
  it('gaps, duplicate types, upper case, truncated names and a missing type', () => {
    const src = openSensorsSync({ sysfsRoot: fixture('fault-zone-drift'), binding: createFallbackBinding(), log: silent });
    const keys = src.discovery.zones.map((z) => `${z.key}:${z.role}`);
    expect(keys).toEqual([
      'zone.gpuss-0-usr:gpu',
      'zone.gpuss-0-usr#2:gpu',
      'zone.BIG:cpu',
      'zone.nspss-0-usr:npu',
      'zone.quiet_therm_for_ski:skin',
      'zone.thermal_zone21:unknown',
    ]);
    const s = src.read();
    expect(s.signals['zone.gpuss-0-usr#2']).toBe(63.875);
    expect(s.signals.soc_c).toBe(70.125);
    expect(s.signals.skin_c).toBe(36.25);
    expect(reasonsFor(s, 'zone.thermal_zone21')).toBe('');
    expect(src.discovery.problems.some((p) => p.signal === 'zone.thermal_zone21' && /type unreadable/.test(p.reason))).toBe(true);
    src.close();
  });

  it('renumbering and late zones are picked up by the periodic rescan, keyed by type', () => {
    const root = copy('fault-zone-drift');
    const timers = manualTimers();
    const src = openSensorsSync({ sysfsRoot: root, binding: createFallbackBinding(), log: silent, timers, rescanMs: 30000 });
    expect(src.read().signals['zone.BIG']).toBe(70.125);
    const tz = join(root, 'sys/class/thermal');
    renameSync(join(tz, 'thermal_zone7'), join(tz, 'thermal_zone40'));
    mkdirSync(join(tz, 'thermal_zone41'));
    writeFileSync(join(tz, 'thermal_zone41/type'), 'TPU\n');
    writeFileSync(join(tz, 'thermal_zone41/temp'), '73500\n');
    expect(src.read().signals['zone.TPU']).toBeUndefined(); // not yet rescanned
    timers.advance(30000);
    const s = src.read();
    expect(s.signals['zone.BIG']).toBe(70.125);
    expect(s.signals['zone.TPU']).toBe(73.5);
    expect(s.signals.soc_c).toBe(73.5);
    src.close();
  });
});

describe('case 10: battery current sign and unit', () => {
  it('Samsung mA: 1250 mA × 3.85 V discharging = +4.8125 W', () => {
    const src = openSensorsSync({ sysfsRoot: fixture('fault-battery-samsung-ma'), binding: createFallbackBinding(), log: silent });
    const s = src.read();
    expect(s.signals.battery_w).toBeCloseTo(4.8125, 4);
    expect(src.batteryCalibration()).toMatchObject({ unit: 'mA', sign: 'negative-discharge' });
    src.close();
  });

  it('Qualcomm bms, positive = discharging: learned from status and kept when status stops saying', () => {
    const root = copy('fault-battery-bms-positive');
    const src = openSensorsSync({ sysfsRoot: root, binding: createFallbackBinding(), log: silent });
    expect(src.read().signals.battery_w).toBeCloseTo(0.845 * 3.99, 4);
    expect(src.batteryCalibration()).toMatchObject({ unit: 'uA', sign: 'positive-discharge' });
    src.close();
    writeFileSync(join(root, 'sys/class/power_supply/bms/status'), 'Not charging\n');
    // A fresh source has not learned the convention; the kernel ABI is assumed → charging direction.
    const fresh = openSensorsSync({ sysfsRoot: root, binding: createFallbackBinding(), log: silent });
    expect(fresh.read().signals.battery_w).toBeCloseTo(-0.845 * 3.99, 4);
    fresh.close();
  });

  it('a source that learned the convention keeps it through "Not charging"', () => {
    const root = copy('fault-battery-bms-positive');
    const src = openSensorsSync({ sysfsRoot: root, binding: createFallbackBinding(), log: silent });
    src.read();
    writeFileSync(join(root, 'sys/class/power_supply/bms/status'), 'Not charging\n');
    const s = src.read();
    expect(s.signals.battery_w).toBeCloseTo(0.845 * 3.99, 4);
    expect(s.signals.charging).toBe(0);
    src.close();
  });

  it('ACPI BAT0: unsigned power_now in µW, direction from status', () => {
    const root = copy('fault-battery-acpi');
    const src = openSensorsSync({ sysfsRoot: root, binding: createFallbackBinding(), log: silent });
    expect(src.read().signals).toMatchObject({ battery_w: 8.123, charging: 0, battery_pct: 79, soc_c: 58 });
    writeFileSync(join(root, 'sys/class/power_supply/BAT0/status'), 'Charging\n');
    expect(src.read().signals).toMatchObject({ battery_w: -8.123, charging: 1 });
    src.close();
  });
});

describe('case 11: power_supply read failures', () => {
  it('status Unknown, no current_now, empty temp: partial data with reasons', () => {
    const src = openSensorsSync({ sysfsRoot: fixture('fault-battery-partial'), binding: createFallbackBinding(), log: silent });
    const s = src.read();
    expect(s.signals.battery_pct).toBe(75);
    expect(s.signals.charging).toBeUndefined();
    expect(reasonsFor(s, 'charging')).toMatch(/Unknown/);
    expect(s.signals.battery_w).toBeUndefined();
    expect(reasonsFor(s, 'battery_w')).toMatch(/temp: no sample yet \(ENODATA\)/);
    expect(reasonsFor(s, 'battery_w')).toMatch(/no current_now or power_now/);
    expect(s.signals.battery_c).toBe(31); // from the mtktsbattery zone instead
    expect(s.signals.soc_c).toBe(49);
    src.close();
  });

  it('EIO on one attribute leaves the others', () => {
    const mock = createMockBinding({ passthrough: true });
    const root = fixture('pixel8');
    mock.fail(join(root, 'sys/class/power_supply/battery/current_now'), ERRNO.EIO);
    const src = openSensorsSync({ sysfsRoot: root, binding: mock, log: silent });
    const s = src.read();
    expect(s.signals.battery_w).toBeUndefined();
    expect(s.signals.battery_pct).toBe(57);
    expect(reasonsFor(s, 'battery_w')).toMatch(/current_now: sensor error \(EIO\)/);
    src.close();
  });
});

describe('case 12: battery and charger topology', () => {
  it('found by type=Battery under any name; HID device batteries ignored; charging → negative W', () => {
    const src = openSensorsSync({ sysfsRoot: fixture('fault-battery-topology'), binding: createFallbackBinding(), log: silent });
    expect(src.discovery.battery?.name).toBe('max170xx_battery');
    expect(src.discovery.otherBatteries).toEqual([]);
    expect(src.read().signals).toMatchObject({ charging: 1, battery_pct: 83, battery_w: -2.2167 });
    src.close();
  });

  it('present=0: no battery, with the reason', () => {
    const src = openSensorsSync({ sysfsRoot: fixture('fault-battery-not-present'), binding: createFallbackBinding(), log: silent });
    expect(src.discovery.battery).toBeUndefined();
    expect(reasonsFor(src.read(), 'battery_w')).toMatch(/present=0/);
    src.close();
  });

  it('a supply removed at run time disappears at the next rescan', () => {
    const root = copy('pixel8');
    const timers = manualTimers();
    const src = openSensorsSync({ sysfsRoot: root, binding: createFallbackBinding(), log: silent, timers, rescanMs: 10000 });
    expect(src.read().signals.battery_w).toBeCloseTo(2.3692, 4);
    rmSync(join(root, 'sys/class/power_supply/battery'), { recursive: true });
    timers.advance(10000);
    const s = src.read();
    expect(s.signals.battery_w).toBeUndefined();
    expect(reasonsFor(s, 'battery_w')).toMatch(/no power_supply of type Battery/);
    src.close();
  });
});

describe('case 13: slow or hung reads (FIFO)', () => {
  it('a FIFO temp attribute is skipped at discovery and never opened; the rest reads, in a child that must not hang', () => {
    const root = copy('pixel8');
    const zoneDir = join(root, 'sys/devices/virtual/thermal/thermal_zone2'); // LITTLE
    unlinkSync(join(zoneDir, 'temp'));
    execFileSync('mkfifo', [join(zoneDir, 'temp')]);
    const batt = join(root, 'sys/class/power_supply/battery/current_now');
    unlinkSync(batt);
    execFileSync('mkfifo', [batt]);
    const dist = new URL('../../dist/sensors/index.js', import.meta.url).href;
    expect(existsSync(new URL(dist)), 'run `npx tsc -p tsconfig.json` first').toBe(true);
    const script = `
      const { openSensorsSync } = await import(${JSON.stringify(dist)});
      const out = {};
      for (const b of ['native', 'fallback']) {
        process.env.EDGEGOV_NATIVE = b === 'fallback' ? 'off' : 'auto';
        const s = openSensorsSync({ sysfsRoot: ${JSON.stringify(root)}, log: () => {} });
        const snap = s.read();
        out[b] = { binding: s.binding, little: snap.signals['zone.LITTLE'], soc: snap.signals.soc_c,
          reasons: snap.faults.filter(f => f.signal === 'zone.LITTLE' || f.signal === 'battery_w').map(f => f.reason) };
        s.close();
      }
      console.log(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 15000 });
    expect(r.signal, 'the child hung on the FIFO').toBeNull();
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, { little?: number; soc: number; reasons: string[] }>;
    for (const b of Object.values(out)) {
      expect(b.little).toBeUndefined();
      expect(b.soc).toBeCloseTo(61.345, 3);
      expect(b.reasons.join(' | ')).toMatch(/temp is not a regular file/);
      expect(b.reasons.join(' | ')).toMatch(/current_now is not a regular file/);
    }
  });

  it('a file swapped for a FIFO after discovery reads as ESPIPE from a fresh reader, without blocking', () => {
    const root = copy('rpi5');
    const temp = join(root, 'sys/devices/virtual/thermal/thermal_zone0/temp');
    const reader = createFallbackBinding().openReader([{ path: temp, kind: 'int' }]);
    unlinkSync(temp);
    execFileSync('mkfifo', [temp]);
    expect(reader.read().values[0]).toBe(51250); // the kept fd still holds the old file
    reader.close();
    const fresh = createFallbackBinding().openReader([{ path: temp, kind: 'int' }]);
    expect(fresh.read().errnos[0]).toBe(ERRNO.ESPIPE);
    fresh.close();
  });
});

describe('case 14: ODPM energy counters', () => {
  it('are not read by edgegov (battery_w comes from power_supply), so an iio tree changes nothing', () => {
    const root = copy('pixel8');
    const iio = join(root, 'sys/bus/iio/devices/iio:device0');
    mkdirSync(iio, { recursive: true });
    writeFileSync(join(iio, 'name'), 's2mpg10-odpm\n');
    writeFileSync(join(iio, 'energy_value'), '');
    symlinkSync('../../bus/iio/devices/iio:device0', join(root, 'sys/class/power_supply/iio'), 'dir');
    const src = openSensorsSync({ sysfsRoot: root, binding: createFallbackBinding(), log: silent });
    expect(src.read().signals.battery_w).toBeCloseTo(2.3692, 4);
    src.close();
  });
});

describe('case 15: memory-counter schema drift', () => {
  it('MemAvailable absent: estimated from MemFree+Buffers+Cached and flagged; HugePages without kB and vendor keys ignored', () => {
    const src = openSensorsSync({ sysfsRoot: fixture('fault-meminfo-old'), binding: createFallbackBinding(), log: silent });
    const s = src.read();
    // MemFree 301200 + Buffers 1166 + Cached 801240 kB
    expect(s.signals.mem_avail_mb).toBeCloseTo((301200 + 1166 + 801240) / 1024, 1);
    expect(s.signals.mem_total_mb).toBeCloseTo(2914520 / 1024, 1);
    expect(reasonsFor(s, 'mem_avail_mb')).toMatch(/MemAvailable absent/);
    src.close();
  });
});

describe('case 13: slow reads (watchdog) and hung off-thread reads', () => {
  const root = fixture('pixel8');
  const current = join(root, 'sys/class/power_supply/battery/current_now');
  const little = join(root, 'sys/class/thermal/thermal_zone2/temp');

  it('power_supply attributes are read off the main thread, one group per supply; zones, meminfo and PSI stay on the fast path', () => {
    const mock = createMockBinding({ passthrough: true });
    const src = openSensorsSync({ sysfsRoot: root, binding: mock, log: silent, timers: manualTimers() });
    const groupOf = (p: string) => mock.lastSpecs.find((s) => s.path === p)?.group;
    expect(groupOf(current)).toBe('power_supply:battery');
    expect(groupOf(join(root, 'sys/class/power_supply/battery/status'))).toBe('power_supply:battery');
    expect(groupOf(join(root, 'sys/class/power_supply/usb/online'))).toMatch(/^power_supply:.*usb\/online$/);
    expect(groupOf(little)).toBeUndefined();
    expect(mock.lastSpecs.filter((s) => s.group === undefined && /meminfo|pressure/.test(s.path))).toHaveLength(2);
    src.close();
  });

  it('a fast-path file slow once is moved off the main thread for good (its own group), with a fault and a log line', () => {
    const mock = createMockBinding({ passthrough: true });
    const logs: string[] = [];
    const src = openSensorsSync({ sysfsRoot: root, binding: mock, log: (l) => logs.push(l), timers: manualTimers(), slowReadMs: 50 });
    mock.delay(little, 30);
    const under = src.read();
    expect(under.signals['zone.LITTLE']).toBeDefined();
    expect(mock.lastSpecs.find((s) => s.path === little)?.group).toBeUndefined(); // under the limit
    mock.delay(little, 800);
    const slow = src.read();
    expect(slow.signals['zone.LITTLE']).toBeDefined(); // the value that came back is used
    expect(reasonsFor(slow, 'zone.LITTLE')).toMatch(/thermal_zone2\/temp: read took 800 ms \(stalled driver\?\); now read off the main thread/);
    expect(logs.join('\n')).toMatch(/now read off the main thread/);
    expect(mock.lastSpecs.find((s) => s.path === little)?.group).toBe(`slow:${little}`);
    const after = src.read(); // off-thread now: its read time no longer counts against this thread
    expect(reasonsFor(after, 'zone.LITTLE')).toBe('');
    expect(after.signals['zone.LITTLE']).toBeDefined();
    src.close();
  });

  it('an off-thread read in flight past the deadline marks the sensor hung with a reason; every other sensor reads; it recovers when the read returns', () => {
    const mock = createMockBinding({ passthrough: true });
    const src = openSensorsSync({ sysfsRoot: root, binding: mock, log: silent, timers: manualTimers(), hungReadMs: 1000 });
    expect(src.read().signals.battery_w).toBeCloseTo(2.3692, 4);
    mock.hang(current, 400); // slow but inside the deadline: the last completed value is used
    expect(src.read().signals.battery_w).toBeCloseTo(2.3692, 4);
    mock.hang(current, 1500);
    const hung = src.read();
    expect(hung.signals.battery_w).toBeUndefined(); // never a stale value passed off as current
    expect(reasonsFor(hung, 'battery_w')).toMatch(/current_now: read hung for 1\.5 s \(stalled driver\?\); other sensors unaffected/);
    expect(hung.signals.soc_c).toBeCloseTo(61.345, 3);
    expect(hung.signals.battery_pct).toBe(57); // other attributes of the same supply whose reads completed
    expect(hung.signals.mem_avail_mb).toBeCloseTo(2045.1, 1);
    mock.hang(current, 0);
    const back = src.read();
    expect(back.signals.battery_w).toBeCloseTo(2.3692, 4);
    expect(reasonsFor(back, 'battery_w')).toBe('');
    src.close();
  });

  it('a hung zone shows health "hung" in zoneHealth, and soc_c comes from the other zones', () => {
    const mock = createMockBinding({ passthrough: true });
    const src = openSensorsSync({ sysfsRoot: root, binding: mock, log: silent, timers: manualTimers(), slowReadMs: 50, hungReadMs: 1000 });
    mock.delay(little, 800);
    src.read(); // moves it off-thread
    mock.hang(little, 2000);
    const s = src.read();
    expect(s.signals['zone.LITTLE']).toBeUndefined();
    const h = src.zoneHealth().find((z) => z.type === 'LITTLE')!;
    expect(h.health).toBe('hung');
    expect(h.reason).toMatch(/read hung for 2\.0 s/);
    expect(s.signals.soc_c).toBeCloseTo(61.345, 3);
    src.close();
  });
});
