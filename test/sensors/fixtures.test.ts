/**
 * Every fixture tree, through every binding this machine has: discovery finds the expected
 * roles, canonical signals carry the fixture's values in SPEC §3 units, non-temperature zones
 * never reach soc_c, and native and fallback return identical snapshots.
 */
import { describe, expect, it } from 'vitest';
import { openSensorsSync, type SensorSource } from '../../src/sensors/index.js';
import { readdirSync } from 'node:fs';
import { bindings, fixture, fixturesDir, nativeAvailable } from './helpers.js';
import { compareBindingReadings } from '../../src/sensors/binding-agreement.js';
import { createNativeBinding, loadNativeAddon } from '../../src/native/native.js';
import { createFallbackBinding } from '../../src/native/fallback.js';
import type { SensorBinding } from '../../src/native/binding-interface.js';

interface Expectation {
  roles: Record<string, string[]>;
  signals: Record<string, number | undefined>;
  zoneCount: number;
  nonTemp?: string[];
}

const silent = () => {};

const EXPECT: Record<string, Expectation> = {
  pixel8: {
    roles: {
      cpu: ['BIG', 'MID', 'LITTLE'],
      gpu: ['G3D'],
      npu: ['TPU'],
      soc: ['ISP'],
      skin: ['north_therm', 'disp_therm', 'neutral_therm', 'quiet_therm'],
      battery: ['battery'],
      board: ['cam_therm', 'soc_therm', 'charge_therm', 'usb_pwr_therm'],
      'not-a-temperature': ['vdroop1', 'batoilo', 'soc'],
    },
    signals: {
      soc_c: 61.345, // TPU
      skin_c: 37.804, // north_therm
      battery_c: 31.2, // power_supply temp 312 d°C, not the zone
      battery_w: 2.3692, // 0.612 A × 3.87125 V, discharging → positive
      battery_pct: 57,
      charging: 0,
      mem_avail_mb: 2045.1,
      mem_total_mb: 7629.4,
      psi_mem_some_avg10: 38.41,
      psi_mem_full_avg10: 12.07,
      'zone.G3D': 55.87,
      'zone.battery': 33.2,
    },
    zoneCount: 18,
    nonTemp: ['vdroop1', 'batoilo', 'soc'],
  },
  'sd8elite-dev': {
    roles: {
      cpu: ['cpu-0-0-0', 'cpu-1-1-1', 'cpuss-0-0', 'cpuss-1-1', 'cpu-0-4-0'],
      gpu: ['gpuss-0', 'gpuss-5', 'gpuss-7'],
      npu: ['nsphvx-0', 'nsphvx-2', 'nsphmx-0', 'nsphmx-3'],
      soc: ['aoss-0', 'aoss-3', 'camera-0', 'camera-1', 'video'],
      ddr: ['ddr'],
      modem: ['mdmss-0', 'mdmss-3'],
      battery: ['battery'],
      board: ['pm8550ve_f_tz', 'pmr735d_tz', 'sys-therm-5', 'sys-therm-0', 'pm8550_tz', 'ac'],
      'not-a-temperature': ['pm8550-bcl-lvl0', 'pm8550-bcl-lvl1', 'pm8550-bcl-lvl2', 'pmih010x-ibat-lvl0', 'vbat', 'socd'],
    },
    signals: {
      soc_c: 78.412, // gpuss-5
      skin_c: undefined, // the S25 list has no skin zone
      battery_c: 34.7,
      battery_w: 5.7898, // `battery` (negative µA) chosen over `bms` (positive µA): 1.48 A × 3.912 V
      battery_pct: 64,
      charging: 0,
      mem_avail_mb: 4305.8,
      mem_total_mb: 11243.0,
      psi_mem_some_avg10: 4.12,
      psi_mem_full_avg10: 1.05,
      'zone.gpuss-5': 78.412,
    },
    zoneCount: 64,
    nonTemp: ['pm8550-bcl-lvl0', 'pmih010x-ibat-lvl0', 'vbat', 'socd'],
  },
  'rk3588-bsp': {
    roles: {
      cpu: ['bigcore0-thermal', 'bigcore1-thermal', 'littlecore-thermal'],
      gpu: ['gpu-thermal'],
      npu: ['npu-thermal'],
      soc: ['soc-thermal', 'center-thermal'],
    },
    signals: { soc_c: 47.125, skin_c: undefined, battery_w: undefined, battery_c: undefined, mem_total_mb: 15702.6, psi_mem_some_avg10: 0 },
    zoneCount: 7,
  },
  'rk3588-mainline': {
    roles: {
      cpu: ['bigcore0-thermal', 'bigcore2-thermal', 'littlecore-thermal'],
      gpu: ['gpu-thermal'],
      npu: ['npu-thermal'],
      soc: ['package-thermal', 'center-thermal'],
    },
    signals: { soc_c: 53.375, 'zone.package-thermal': 51.12, mem_avail_mb: 5959.4, psi_mem_full_avg10: 0.3 },
    zoneCount: 7,
  },
  rpi5: {
    // cpu_thermal in hwmon mirrors the zone and is not listed twice; rp1_adc is a second sensor.
    roles: { cpu: ['cpu-thermal'], board: ['rp1_adc'] },
    signals: {
      soc_c: 51.25,
      'zone.rp1_adc': 46.812,
      battery_w: undefined,
      psi_mem_some_avg10: undefined, // PSI disabled by default on Pi kernels
      mem_avail_mb: 7130.5,
    },
    zoneCount: 2,
  },
  'no-sensors': {
    roles: {},
    signals: { soc_c: undefined, skin_c: undefined, battery_w: undefined, mem_total_mb: 24032.7, psi_mem_some_avg10: 0 },
    zoneCount: 0,
  },
};

function rolesOf(src: SensorSource): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const z of src.discovery.zones) (out[z.role] ??= []).push(z.type);
  return out;
}

for (const b of bindings()) {
  describe(`fixtures via ${b.name}`, () => {
    for (const [name, exp] of Object.entries(EXPECT)) {
      it(`${name}: roles, canonical values and units`, async () => {
        const src = openSensorsSync({ sysfsRoot: fixture(name), binding: b.make(), log: silent });
        try {
          // The battery group is read on its own thread; on a loaded machine its first read can
          // miss the 5 ms wait, and this test is about values, not that timing.
          expect(await src.settle(30_000)).toBe(true);
          expect(src.discovery.zones).toHaveLength(exp.zoneCount);
          const roles = rolesOf(src);
          for (const [role, types] of Object.entries(exp.roles)) {
            for (const t of types) expect(roles[role], `${t} should be ${role}`).toContain(t);
          }
          const snap = src.read();
          for (const [sig, v] of Object.entries(exp.signals)) {
            if (v === undefined) expect(snap.signals[sig], sig).toBeUndefined();
            else expect(snap.signals[sig], sig).toBeCloseTo(v, 3);
          }
          // A missing canonical signal always comes with a reason, never a silent zero.
          for (const [sig, v] of Object.entries(snap.signals)) {
            if (v === undefined && !sig.startsWith('zone.')) expect(snap.faults.some((f) => f.signal === sig), sig).toBe(true);
          }
          // Non-temperature zones never become °C signals and never reach soc_c.
          for (const t of exp.nonTemp ?? []) expect(snap.signals[`zone.${t}`]).toBeUndefined();
          const socZones = src.discovery.zones.filter((z) => ['cpu', 'gpu', 'npu', 'soc'].includes(z.role));
          if (socZones.length) {
            const maxSoc = Math.max(...socZones.map((z) => snap.signals[z.key] ?? -Infinity));
            expect(snap.signals.soc_c).toBe(maxSoc);
          }
          // Every temperature signal is a plausible °C value.
          for (const [k, v] of Object.entries(snap.signals)) {
            if (k.startsWith('zone.') || k.endsWith('_c')) if (v !== undefined) expect(v).toBeGreaterThan(-30), expect(v).toBeLessThan(150);
          }
        } finally {
          src.close();
        }
      });
    }
  });
}

describe('the 60-zone Snapdragon fixture', () => {
  it('has 60+ zones and the BCL zones read in their own units, not as temperatures', () => {
    const src = openSensorsSync({ sysfsRoot: fixture('sd8elite-dev'), binding: createFallbackBinding(), log: silent });
    try {
      src.read();
      const health = Object.fromEntries(src.zoneHealth().map((h) => [h.type, h]));
      expect(src.discovery.zones.length).toBeGreaterThanOrEqual(60);
      expect(health['pmih010x-ibat-lvl0']!.raw).toBe(4200); // mA would read as 4.2 °C
      expect(health['vbat']!.raw).toBe(3870);
      expect(health['vbat']!.tempC).toBeUndefined();
      expect(src.discovery.battery?.name).toBe('battery');
      expect(src.discovery.otherBatteries).toEqual(['bms']);
    } finally {
      src.close();
    }
  });
});

describe.skipIf(!nativeAvailable)('native and fallback agree', () => {
  // Every tree, the fault trees included: a parser difference shows first on odd input.
  for (const name of readdirSync(fixturesDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name)) {
    it(`${name}: identical discovery, snapshots, faults and zone health`, async () => {
      const addon = loadNativeAddon().addon!;
      expect(await compareBindingReadings(fixture(name), createNativeBinding(addon), createFallbackBinding())).toEqual([]);
    });
  }
});

describe('the binding comparison itself', () => {
  it('reports a binding that reads one file differently, naming the read and the field', async () => {
    // The fallback, except that the first file (a thermal zone) reads 1 m°C higher.
    const base = createFallbackBinding();
    const skewed: SensorBinding = {
      ...base,
      openReader(files) {
        const r = base.openReader(files);
        return { ...r, read: () => { const b = r.read(); return { ...b, values: Array.from(b.values, (v, i) => (i === 0 ? v + 1 : v)) }; }, close: () => r.close(), settle: r.settle };
      },
    };
    const diffs = await compareBindingReadings(fixture('rk3588-mainline'), createFallbackBinding(), skewed);
    expect(diffs.map((d) => d.what)).toEqual(['read 1: signals', 'read 2: signals', 'read 3: signals', 'zoneHealth']);
  });
});
