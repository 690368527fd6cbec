/**
 * Signals a trace never carries are not on the recorded device (no fault, no safe tier); a
 * signal the trace carries and then loses is still a fault. Generated traces through the
 * shipped policies/default.yaml, replayed from real files (and once through the CLI).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPolicyFile } from '../../src/policy/load.js';
import type { Policy } from '../../src/policy/types.js';
import type { Sample } from '../../src/core/signals.js';
import { replayTrace } from '../../src/replay/run.js';
import { severityIndex } from '../../src/core/severity.js';
import { policyOnDevice, signalsNotCarried } from '../../src/core/on-device.js';
import { initialState, step } from '../../src/core/governor.js';
import { heatingScenario } from './scenario.js';
import { repoRoot, runCli, hasStackTrace } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'edgegov-absent-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let policy: Policy;
beforeAll(async () => { policy = await loadPolicyFile(join(repoRoot, 'policies', 'default.yaml')); });

/** Writes samples as CSV with exactly `cols`; `cell` may blank a cell (a reading lost). */
function csv(name: string, samples: Sample[], cols: string[], cell: (s: Sample, col: string, i: number) => number | undefined = (s, c) => s[c]): string {
  const file = join(dir, name);
  const rows = samples.map((s, i) => cols.map((c) => { const v = cell(s, c, i); return v === undefined ? '' : String(v); }).join(','));
  writeFileSync(file, [cols.join(','), ...rows].join('\n') + '\n');
  return file;
}

const scenario = heatingScenario({ samples: 1200, periodMs: 500, peakC: 100 });
const withoutSkin = ['t_ms', 'zone.cpu-0', 'zone.gpu-0', 'battery_c', 'battery_w', 'battery_pct', 'charging', 'mem_avail_mb', 'psi_mem_some_avg10'];
const withSkin = [...withoutSkin, 'skin_c'];

describe('a signal the trace never carries is not on the device', () => {
  it('no skin_c column: no fault, no safe tier, 0 s fault-capped; the SoC heat still escalates and recovers', async () => {
    const s = await replayTrace(csv('no-skin.csv', scenario, withoutSkin), { policy });
    expect(s.signalsNotOnDevice).toEqual(['skin_c', 'mem_total_mb', 'tok_s']);
    expect(s.strictSignals).toBe(false);
    expect(s.sensorFaults).toEqual({ count: 0, bySignal: {}, onFault: {} });
    expect(s.timeSafeS).toBe(0);
    expect(s.timeFaultCappedS).toBe(0);
    // soc_c (max of the zones) peaks at ~100 °C: severe and worse on the default soc limits.
    expect(s.timeInSeverityS.severe + s.timeInSeverityS.critical).toBeGreaterThan(30);
    expect(s.finalDecision!.safe).toBe(false);
    expect(s.finalDecision!.severity).toBe('none');
    // Discharging all run: the richest tier on battery is `balanced` (rules.battery.onBattery).
    expect(s.timeInTierS.balanced).toBeGreaterThan(0);
  });

  it('--strict-signals: the same trace reads as today — critical skin_c missing forces the safe tier all run', async () => {
    const s = await replayTrace(csv('no-skin-strict.csv', scenario, withoutSkin), { policy, strictSignals: true });
    expect(s.signalsNotOnDevice).toEqual([]);
    expect(s.strictSignals).toBe(true);
    expect(s.sensorFaults.bySignal.skin_c).toBe(1);
    expect(s.sensorFaults.onFault.skin_c).toEqual({ onFault: 'safe', byDefault: true });
    expect(s.timeSafeS).toBe(s.durationS);
    expect(s.timeFaultCappedS).toBe(s.durationS);
    expect(s.timeInTierS.full).toBe(0);
  });

  it('a skin_c column whose readings stop is still a fault: safe tier from the end of the hold, onFault in the summary', async () => {
    const lostFrom = 700; // rows; the default policy holds skin_c 40 s (80 rows at 2 Hz) before it fails
    const s = await replayTrace(csv('skin-lost.csv', scenario, withSkin, (x, c, i) => (c === 'skin_c' && i >= lostFrom ? undefined : x[c])), { policy });
    expect(s.signalsNotOnDevice).not.toContain('skin_c');
    expect(s.sensorFaults.bySignal.skin_c).toBe(1);
    expect(s.sensorFaults.onFault.skin_c).toEqual({ onFault: 'safe', byDefault: true });
    const lostS = (scenario.at(-1)!.t_ms - scenario[lostFrom].t_ms) / 1000;
    expect(s.timeSafeS).toBeGreaterThan(lostS - 40 - 1);
    expect(s.timeSafeS).toBeLessThanOrEqual(lostS);
    expect(s.finalDecision!.safe).toBe(true);
  });

  it('a column with no reading at all is carried (a sensor that never answered), so it is a fault', async () => {
    const s = await replayTrace(csv('skin-empty.csv', scenario, withSkin, (x, c) => (c === 'skin_c' ? undefined : x[c])), { policy });
    expect(s.signalsNotOnDevice).not.toContain('skin_c');
    expect(s.timeSafeS).toBe(s.durationS);
  });

  it('a MemAvailable column that goes blank caps the tier (fault-capped, not safe); with no such column it does not', async () => {
    const blank = (x: Sample, c: string, i: number) => (c === 'mem_avail_mb' && i >= 900 && i < 1000 ? undefined : x[c]);
    const s = await replayTrace(csv('mem-lost.csv', scenario, withSkin, blank), { policy });
    expect(s.timeSafeS).toBe(0);
    // 100 rows = 50 s without a reading, less the 5 s hold.
    expect(s.timeFaultCappedS).toBeGreaterThanOrEqual(44);
    expect(s.timeFaultCappedS).toBeLessThanOrEqual(50);
    const none = await replayTrace(csv('mem-none.csv', scenario, withSkin.filter((c) => c !== 'mem_avail_mb')), { policy });
    expect(none.signalsNotOnDevice).toContain('mem_avail_mb');
    expect(none.timeFaultCappedS).toBe(0);
  });

  it('flat signals on a device without skin or memory: nothing stuck, nothing capped, the richest tier', async () => {
    const flat: Sample[] = Array.from({ length: 1200 }, (_, i) => ({ t_ms: i * 1000, 'zone.cpu-thermal': 45, battery_c: 25 }));
    const s = await replayTrace(csv('flat.csv', flat, ['t_ms', 'zone.cpu-thermal', 'battery_c']), { policy });
    expect(s.sensorFaults.count).toBe(0);
    expect(s.timeFaultCappedS).toBe(0);
    expect(s.timeInTierS.full).toBe(s.durationS);
    expect(s.warnings).toEqual([]);
  });

  it('a trace with none of the policy\'s critical sensors replays, and says their limits cannot apply', async () => {
    const s = await replayTrace(csv('no-critical.csv', scenario, ['t_ms', 'battery_c', 'battery_pct', 'charging']), { policy });
    expect(s.signalsNotOnDevice).toEqual(expect.arrayContaining(['soc_c', 'skin_c']));
    expect(s.warnings).toEqual([expect.stringMatching(/carries none of the policy's critical sensors \(soc_c, skin_c\)/)]);
    expect(s.timeFaultCappedS).toBe(0);
  });
});

describe('what a trace carries: JSONL keys and the # signals: header comment', () => {
  /** 1200 rows of JSONL (~170 KiB, several read chunks) where skin_c appears only from row `from`. */
  function jsonl(name: string, from: number, header?: string): string {
    const file = join(dir, name);
    const lines = scenario.map((x, i) => {
      const o: Record<string, number | undefined> = {};
      for (const c of withoutSkin) o[c] = x[c];
      if (i >= from) o.skin_c = x.skin_c;
      return JSON.stringify(o);
    });
    writeFileSync(file, (header ? header + '\n' : '') + lines.join('\n') + '\n');
    return file;
  }

  it('a key first seen late is said once in the warnings and not read; `# signals:` declares it up front', async () => {
    const late = await replayTrace(jsonl('late.jsonl', 1100), { policy });
    expect(late.signalsNotOnDevice).toContain('skin_c');
    expect(late.warnings.filter((w) => /skin_c first appears after replay began/.test(w))).toHaveLength(1);
    expect(late.timeSafeS).toBe(0);

    const declared = await replayTrace(jsonl('declared.jsonl', 1100, '# signals: skin_c, zone.cpu-0'), { policy });
    expect(declared.signalsNotOnDevice).not.toContain('skin_c');
    expect(declared.warnings.some((w) => /first appears/.test(w))).toBe(false);
    // Declared but without a reading until row 1100: a fault (safe) until it reports.
    expect(declared.sensorFaults.bySignal.skin_c).toBe(1);
    expect(declared.timeSafeS).toBeGreaterThan(500);
    expect(declared.finalDecision!.safe).toBe(false);
  });
});

describe('signalsNotCarried / policyOnDevice', () => {
  it('a virtual sensor is carried by any zone its patterns match, or by its own column', () => {
    expect(signalsNotCarried(policy, ['t_ms', 'zone.cpu-thermal'])).not.toContain('soc_c');
    expect(signalsNotCarried(policy, ['t_ms', 'soc_c'])).not.toContain('soc_c');
    // The Galaxy C7 Pro's board thermistor is no die zone of the default policy.
    expect(signalsNotCarried(policy, ['t_ms', 'zone.thermal_zone1', 'skin_c'])).toContain('soc_c');
  });

  it('a weighted virtual sensor needs every term; a fallback naming an absent sensor is dropped', () => {
    const base = policy.sensors.find((x) => x.name === 'skin_c')!;
    const p: Policy = {
      ...policy,
      sensors: [
        ...policy.sensors.filter((x) => x.name !== 'skin_c'),
        { ...base, fallback: 'vskin_c' },
        { ...base, name: 'vskin_c', critical: false, source: { kind: 'weighted', terms: [{ zone: 'skin-a', weight: 0.5 }, { zone: 'skin-b', weight: 0.5 }], offset: 0 } },
      ],
    };
    expect(signalsNotCarried(p, ['t_ms', 'zone.skin-a', 'skin_c'])).toContain('vskin_c');
    expect(signalsNotCarried(p, ['t_ms', 'zone.skin-a', 'zone.skin-b', 'skin_c'])).not.toContain('vskin_c');
    const on = policyOnDevice(p, ['vskin_c']);
    expect(on.sensors.map((x) => x.name)).not.toContain('vskin_c');
    expect(on.sensors.find((x) => x.name === 'skin_c')!.fallback).toBeUndefined();
    expect(on.absentSignals).toEqual(['vskin_c']);
    expect(policyOnDevice(p, [])).toBe(p);
  });

  it('the core on the derived policy: a limit of an absent signal is gone, the rest still bind', () => {
    const absent = signalsNotCarried(policy, ['t_ms', 'zone.cpu-0']);
    expect(absent).toEqual(expect.arrayContaining(['skin_c', 'battery_w', 'mem_avail_mb']));
    const on = policyOnDevice(policy, absent);
    expect(on.limits.map((l) => l.signal)).toEqual(['soc_c']);
    let st = initialState(on);
    let d;
    for (let t = 0; t <= 20_000; t += 500) ({ state: st, decision: d } = step(st, { t_ms: t, 'zone.cpu-0': 90 }, on));
    expect(d!.safe).toBe(false);
    expect(severityIndex(d!.severity)).toBe(severityIndex('severe'));
    expect(d!.reasons.some((r) => r.rule.startsWith('sensor') || r.rule === 'memory')).toBe(false);
  });
});

describe('edgegov replay CLI', () => {
  it('says once which signals are not on the device; --strict-signals gives the old safe-tier reading', () => {
    const trace = csv('cli-no-skin.csv', scenario, withoutSkin);
    const r = runCli(['replay', trace, '--policy', join(repoRoot, 'policies', 'default.yaml')]);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.match(/not on device/g)).toHaveLength(1);
    expect(r.stdout).toMatch(/not on device +skin_c, mem_total_mb, tok_s \(the trace never carries them/);
    expect(r.stdout).toMatch(/fault-capped 0 s, safe tier 0 s/);
    expect(r.stdout).not.toMatch(/SAFE/);

    const strict = runCli(['replay', trace, '--policy', join(repoRoot, 'policies', 'default.yaml'), '--strict-signals']);
    expect(strict.code, strict.stderr).toBe(0);
    expect(strict.stdout).toMatch(/skin_c ×1 onFault safe by default/);
    expect(strict.stdout).toMatch(/final decision .*SAFE/);
    const json = JSON.parse(runCli(['replay', trace, '--policy', join(repoRoot, 'policies', 'default.yaml'), '--strict-signals', '--json']).stdout);
    expect(json.timeSafeS).toBe(json.durationS);
    expect(json.signalsNotOnDevice).toEqual([]);
  }, 60_000);
});
