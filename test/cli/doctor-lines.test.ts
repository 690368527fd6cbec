/**
 * Doctor's sensor lines for what a fixture file cannot do: a kernel that refuses a PSI trigger
 * (permission, read-only /proc, a window it rejects then accepts) and a sysfs file the daemon
 * may not read. The mock binding reads the fixture tree's real files and refuses triggers or
 * reads with the errno a kernel would give; everything else is the code doctor runs.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMockBinding } from '../../src/native/mock.js';
import { ERRNO } from '../../src/native/binding-interface.js';
import { openSensorsSync } from '../../src/sensors/index.js';
import { sensorLines } from '../../src/cli/doctor/sensor-checks.js';
import { choosePolicy, type PolicyFit } from '../../src/cli/doctor/policy-fit.js';
import { repoRoot } from '../helpers/cli.js';

const tree = (t: string) => join(repoRoot, 'test/fixtures/sysfs', t);

function linesWith(root: string, setup: (m: ReturnType<typeof createMockBinding>) => void) {
  const binding = createMockBinding({ passthrough: true });
  setup(binding);
  const src = openSensorsSync({ sysfsRoot: root, binding, log: () => {} });
  try {
    const lines = sensorLines(src, src.read());
    return { lines, byId: (id: string) => lines.find((l) => l.id === id)!, binding };
  } finally {
    src.close();
  }
}

describe('doctor psi.trigger line when the kernel refuses', () => {
  it('EPERM (kernel < 6.4 without CAP_SYS_RESOURCE): permission, and run polls', () => {
    const { byId, binding } = linesWith(tree('rk3588-bsp'), (m) => (m.refuse = () => ERRNO.EPERM));
    expect(binding.attempts.length).toBe(2); // both default triggers tried, nothing retried on EPERM
    const l = byId('psi.trigger');
    expect(l.status).toBe('warn');
    expect(l.detail).toMatch(/^kernel refused some 150000 1000000: EPERM, full 100000 1000000: EPERM: permission: before Linux 6\.4 only CAP_SYS_RESOURCE/);
    expect(l.detail).toContain('run polls total= instead (some 300000 2000000; full 200000 2000000)');
    expect(l.fix).toContain('CAP_SYS_RESOURCE');
  });

  it('EROFS (ProtectKernelTunables=yes, a container): read-only /proc', () => {
    const l = linesWith(tree('pixel8'), (m) => (m.refuse = () => ERRNO.EROFS)).byId('psi.trigger');
    expect(l).toMatchObject({ status: 'warn', detail: expect.stringContaining('/proc is mounted read-only here'), fix: expect.stringContaining('ProtectKernelTunables=no') });
  });

  it('EINVAL then accepted with a 2 s window: ok, and says why the window changed', () => {
    const l = linesWith(tree('rk3588-bsp'), (m) => (m.refuse = (s) => (s.windowUs === 2_000_000 ? 0 : ERRNO.EINVAL))).byId('psi.trigger');
    expect(l.status).toBe('ok');
    expect(l.detail).toBe(
      'kernel trigger armed: some 150000 1000000 (as some 300000 2000000); full 100000 1000000 (as full 200000 2000000) ' +
      'after some 150000 1000000: EINVAL, full 100000 1000000: EINVAL: the kernel refused the trigger window ' +
      '(unprivileged writers on Linux ≥ 6.4 need a multiple of 2 s; < 500 ms or > 10 s is never accepted)',
    );
  });

  it('accepted at once: ok with the triggers as requested', () => {
    const l = linesWith(tree('pixel8'), () => {}).byId('psi.trigger');
    expect(l).toEqual({ id: 'psi.trigger', status: 'ok', detail: 'kernel trigger armed: some 150000 1000000; full 100000 1000000' });
  });
});

describe('doctor zone and battery lines when a read is denied', () => {
  it('EACCES on a zone (SELinux on Android): the zone warns with the permission fix, soc_c still reads from the rest', () => {
    const root = tree('rk3588-bsp');
    const { byId } = linesWith(root, (m) => m.fail(join(root, 'sys/class/thermal/thermal_zone6/temp'), ERRNO.EACCES));
    expect(byId('zone.npu-thermal')).toMatchObject({ status: 'warn', detail: expect.stringContaining('permission denied (EACCES)'), fix: expect.stringContaining('SELinux') });
    expect(byId('zones')).toMatchObject({ status: 'warn', detail: '7 zone(s): 6 temperature(s) read, 1 faulty or skipped' });
    // bigcore0 (46.23 °C) is the hottest once npu (47.125 °C) cannot be read.
    expect(byId('soc_c')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^46\.2 °C: hottest of 6/) });
  });

  it('every zone denied: zones and soc_c fail', () => {
    const root = tree('rpi5');
    const { byId } = linesWith(root, (m) => {
      m.fail(join(root, 'sys/class/thermal/thermal_zone0/temp'), ERRNO.EACCES);
      m.fail(join(root, 'sys/class/hwmon/hwmon1/temp1_input'), ERRNO.EACCES);
    });
    expect(byId('zones')).toMatchObject({ status: 'fail', detail: '2 temperature zone(s) found, none readable' });
    expect(byId('soc_c')).toMatchObject({ status: 'fail', detail: expect.stringContaining('all 1 SoC zones faulty this read') });
  });

  it('EACCES on the battery current: battery warns with the permission fix', () => {
    const root = tree('pixel8');
    const l = linesWith(root, (m) => m.fail(join(root, 'sys/class/power_supply/battery/current_now'), ERRNO.EACCES)).byId('battery');
    expect(l.status).toBe('warn');
    expect(l.detail).toContain('power_supply/battery/current_now: permission denied (EACCES)');
    expect(l.fix).toContain('SELinux');
  });
});

describe('policy choice ranking', () => {
  const fit = (name: string, matched: string[], exact: string[], batteryFit: boolean): PolicyFit =>
    ({ name, file: `${name}.yaml`, matched, exact, wantsBattery: !batteryFit, batteryFit, missingCritical: [] });
  const d = { types: ['cpu-thermal', 'rp1_adc'], hasBattery: false, signals: {} };
  const fallback = fit('default', [], [], false);

  it('an exact zone name beats a glob that matches as many zones', () => {
    const c = choosePolicy([fit('flagship-phone', ['cpu-thermal'], [], false), fit('rpi5', ['cpu-thermal'], ['cpu-thermal'], true)], fallback, d);
    expect(c.chosen.name).toBe('rpi5');
    expect(c.clear).toBe(true);
    expect(c.why).toBe('rpi5 matches 1 of 2 zone(s) (1 by exact name: cpu-thermal); next best flagship-phone matches 1 of 2 zone(s) (cpu-thermal), expects a battery this device lacks');
  });

  it('battery fit breaks a tie of matches; a full tie falls back to default and says so', () => {
    expect(choosePolicy([fit('a', ['x'], [], false), fit('b', ['x'], [], true)], fallback, d).chosen.name).toBe('b');
    const tie = choosePolicy([fit('a', ['x'], [], true), fit('b', ['x'], [], true)], fallback, d);
    expect(tie).toMatchObject({ clear: false, chosen: { name: 'default' } });
    expect(tie.why).toMatch(/^ambiguous: a matches 1 of 2 zone\(s\) \(x\); b matches 1/);
  });

  it('no match at all falls back to default', () => {
    const c = choosePolicy([fit('a', [], [], true)], fallback, d);
    expect(c).toMatchObject({ clear: false, chosen: { name: 'default' } });
    expect(c.why).toContain("no device-class policy's zone patterns match these zones (cpu-thermal, rp1_adc)");
  });
});
