/**
 * The real traces in ../shared/traces/real (not copied into the repo: some have no licence)
 * converted with the recipes of docs/traces.md and replayed through each device's shipped
 * policy. Skips when ../shared is absent.
 */
import { parse as parseYaml } from 'yaml';
import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { repoRoot, runCli, hasStackTrace } from '../helpers/cli.js';
import { readTraceAll } from '../../src/trace/reader.js';
import { SEVERITIES, severityIndex } from '../../src/core/severity.js';
import type { Decision } from '../../src/core/decision.js';

const real = resolve(repoRoot, '..', 'shared', 'traces', 'real');
const available = existsSync(real);
const dir = mkdtempSync(join(tmpdir(), 'edgegov-real-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The recipes, exactly as docs/traces.md gives them: the conversion, and the device's shipped policy. */
export const RECIPES = {
  s25: {
    input: 'galaxy-s25_sd8elite_llm-opencl_stress-thermal_runs1-3.flat.csv',
    out: 's25.csv',
    policy: 'flagship-phone.yaml',
    args: [
      '--map', 't_ms=t_s*1000',
      '--map', 'soc_c=max(T_cpu*_c,T_gpuss-*_c,T_nsphvx-*_c,T_nsphmx-*_c)',
      '--map', 'battery_c=T_battery_c',
      '--map', 'tok_s=run_avg_tok_s',
      '--map', 'zone.cpu*=T_cpu*_c',
      '--map', 'zone.gpuss*=T_gpuss*_c',
      '--map', 'zone.nsp*=T_nsp*_c',
      '--map', 'zone.sys-therm-*=T_sys-therm-*_c',
      '--map', 'zone.ddr=T_ddr_c',
    ],
  },
  s25run1: {
    input: 'galaxy-s25_sd8elite_llm-opencl_stress-thermal_run1.json',
    out: 's25-run1.jsonl',
    policy: 'flagship-phone.yaml',
    args: [
      '--map', 't_ms=time_s(timestamp)*1000', '--map', 'soc_c=max(temps.cpu*,temps.gpuss-*)',
      '--map', 'battery_c=temps.battery', '--map', 'zone.gpuss-*=temps.gpuss-*', '--map', 'zone.cpu*=temps.cpu*',
    ],
  },
  c7pro: {
    input: 'galaxy-c7pro_sd626_stress-recovery_1hz.csv',
    out: 'c7pro.csv',
    policy: 'midrange-phone.yaml',
    args: [
      '--map', 't_ms=time_s(Timestamp)*1000',
      '--map', 'skin_c=Temp_C',
      '--map', 'zone.thermal_zone1=Temp_C',
      '--map', 'battery_pct=Battery_Perc',
      '--map', 'charging=1',
    ],
  },
  rpi: {
    input: 'rpi4b_heatsinktest_default_throttle_1hz.csv',
    out: 'rpi.csv',
    policy: 'rpi5.yaml',
    args: ['--header-line', '2', '--lenient', '--map', 't_ms=sec*1000', '--map', 'zone.cpu-thermal=tmp', '--map', 'cpu_mhz=clk'],
  },
  stressberry: {
    input: 'rpi4b_stressberry_no-case_stress-cooldown.yaml',
    out: 'stressberry.csv',
    policy: 'rpi5.yaml',
    args: ['--map', 't_ms=round(time*1000)', '--map', 'zone.cpu-thermal=temperature', '--map', 'cpu_mhz="cpu frequency"'],
  },
} as const;

type RecipeName = keyof typeof RECIPES;

function convert(name: RecipeName): string {
  const r = RECIPES[name];
  const out = join(dir, r.out);
  const res = runCli(['trace', 'convert', join(real, r.input), '--out', out, ...r.args, '--json']);
  expect(res.stderr).toBe('');
  expect(res.code, res.stderr).toBe(0);
  return out;
}

function replay(name: RecipeName, trace: string, extra: string[] = []) {
  const r = runCli(['replay', trace, '--policy', join(repoRoot, 'policies', RECIPES[name].policy), '--json', ...extra]);
  expect(hasStackTrace(r.stderr)).toBe(false);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
}

/** What every real trace must show through its recipe: no time on a fault-driven cap or the safe tier. */
function expectNoFaultCap(s: any, notOnDevice: string[]): void {
  expect(s.timeFaultCappedS).toBe(0);
  expect(s.timeSafeS).toBe(0);
  expect(s.sensorFaults).toEqual({ count: 0, bySignal: {}, onFault: {} });
  expect(s.signalsNotOnDevice).toEqual(expect.arrayContaining(notOnDevice));
  expect(s.finalDecision.safe).toBe(false);
}

const readDecisions = (file: string): Decision[] => readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
/** The decision in force at `tMs` (the last one published at or before it). */
const inForceAt = (decisions: Decision[], tMs: number): Decision => decisions.filter((d) => d.t_ms <= tMs).at(-1)!;

const SPEC8 = ['samples', 'durationS', 'decisionChanges', 'knobChangesPerMin', 'timeInSeverityS', 'timeInTierS', 'timeOffloadedS', 'maxC', 'sensorFaults', 'finalDecision'];

describe.skipIf(!available)('real traces through their recipes (docs/traces.md)', () => {
  it('Galaxy S25 (flagship-phone): every SPEC §8 field, 0 s fault-capped, escalation while the GPU zones pass 75 °C, recovery between runs', async () => {
    const trace = convert('s25');
    const decisionsFile = join(dir, 's25.decisions.jsonl');
    const s = replay('s25', trace, ['--decisions', decisionsFile]);
    for (const k of SPEC8) expect(s).toHaveProperty(k);
    expect(Object.keys(s.timeInSeverityS)).toEqual([...SEVERITIES]);
    expect(s.samples).toBe(78);
    expect(s.durationS).toBeCloseTo(449, 0);
    expect(s.maxC['zone.gpuss-5']).toBeGreaterThan(80);
    // No skin thermistor, battery power or memory in the recording: not on this device, not faults.
    expectNoFaultCap(s, ['skin_c', 'battery_w', 'mem_avail_mb']);
    expect(s.signalsNotOnDevice).not.toContain('soc_c');
    expect(s.timeInSeverityS.severe).toBeGreaterThan(0);

    const decisions = readDecisions(decisionsFile);
    const { samples } = await readTraceAll(trace);
    const gpuMax = (x: Record<string, number | undefined>) => Math.max(...Object.entries(x).filter(([k]) => k.startsWith('zone.gpuss')).map(([, v]) => v ?? -Infinity));
    const hot = samples.filter((x) => gpuMax(x) >= 75);
    expect(hot.length).toBeGreaterThan(5);
    for (const x of hot) {
      expect(severityIndex(inForceAt(decisions, x.t_ms).severity), `severity at t=${x.t_ms} ms`).toBeGreaterThan(severityIndex('none'));
    }
    // Before the load (first sample, zones ~36 °C) there is no thermal severity, and the tier is
    // the value model's choice among all the caps allow: `high` (q6_k), within 1 % of q8_0's
    // quality for fewer bytes per token (docs/core.md §6), said in a `value` reason.
    expect(decisions[0].severity).toBe('none');
    expect(decisions[0].tier).toBe('high');
    expect(decisions[0].reasons.find((r) => r.rule === 'value')?.message).toMatch(/^high: .*quality/);
    // Each run cools: severity none again, and the tier relaxes from the worst it reached.
    const worstTier = Math.max(...decisions.map((d) => d.tierIndex));
    expect(s.finalDecision.severity).toBe('none');
    expect(s.finalDecision.tierIndex).toBeLessThan(worstTier);
  });

  it('Galaxy S25 run 1 (JSON, flagship-phone): 0 s fault-capped, escalates to severe on the hotspot', () => {
    const s = replay('s25run1', convert('s25run1'));
    expect(s.samples).toBe(24);
    expectNoFaultCap(s, ['skin_c', 'mem_avail_mb']);
    expect(s.maxC.soc_c).toBeCloseTo(84.6, 1);
    expect(s.timeInSeverityS.severe).toBeGreaterThan(0);
  });

  it('Galaxy C7 Pro (midrange-phone, board thermistor as skin): 0 s fault-capped, escalates on skin_c up to 50 °C and recovers', () => {
    const trace = convert('c7pro');
    const decisionsFile = join(dir, 'c7pro.decisions.jsonl');
    const s = replay('c7pro', trace, ['--decisions', decisionsFile]);
    expect(s.samples).toBe(1480);
    expect(s.maxC.skin_c).toBe(50);
    // No SoC hotspot in this trace: soc_c is not on this (recorded) device, not a fault.
    expectNoFaultCap(s, ['soc_c', 'mem_avail_mb']);
    expect(s.timeInSeverityS.severe).toBeGreaterThan(60);
    expect(s.finalDecision.severity).toBe('none');
    const decisions = readDecisions(decisionsFile);
    const peak = decisions.reduce((a, d) => (severityIndex(d.severity) > severityIndex(a.severity) ? d : a));
    // The whole-degree skin sits at exactly 50 °C, the midrange critical set point, for 32 s: the
    // smoothed value reaches it (not 49.99999…), so critical is the peak.
    expect(peak.severity).toBe('critical');
    expect(s.timeInSeverityS.critical).toBeGreaterThan(0);
    expect(s.finalDecision.tierIndex).toBeLessThan(peak.tierIndex);
  });

  it('Galaxy C7 Pro with --strict-signals: the old reading — soc_c never reported is a fault, safe tier all run', () => {
    const s = replay('c7pro', convert('c7pro'), ['--strict-signals']);
    expect(s.strictSignals).toBe(true);
    expect(s.signalsNotOnDevice).toEqual([]);
    expect(s.sensorFaults.bySignal.soc_c).toBe(1);
    expect(s.sensorFaults.onFault.soc_c).toEqual({ onFault: 'safe', byDefault: true });
    expect(s.timeSafeS).toBe(s.durationS);
    expect(s.finalDecision.safe).toBe(true);
  });

  it('Raspberry Pi 4 HeatSinkTest (rpi5 policy, throttle band 80–82 °C): 0 s fault-capped, severe in the band, relaxes as it cools; the end-date footer is a counted skip', () => {
    const out = join(dir, RECIPES.rpi.out);
    const r = runCli(['trace', 'convert', join(real, RECIPES.rpi.input), '--out', out, ...RECIPES.rpi.args, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const conv = JSON.parse(r.stdout);
    expect(conv.samples).toBe(720);
    expect(conv.skippedByKind).toEqual({ 'cell-count': 1 });
    const decisionsFile = join(dir, 'rpi.decisions.jsonl');
    const s = replay('rpi', out, ['--decisions', decisionsFile]);
    expect(s.maxC['zone.cpu-thermal']).toBe(82);
    expectNoFaultCap(s, ['mem_avail_mb', 'tok_s']);
    expect(s.timeInSeverityS.none).toBeGreaterThan(0);
    expect(s.timeInSeverityS.severe).toBeGreaterThan(0);
    const decisions = readDecisions(decisionsFile);
    // In the 80–82 °C band (the last minute of the stress) the severity is severe, and the tier
    // the policy's severe cap allows (rpi5 keeps q8_0 there: the firmware's own throttle holds the
    // die, a swap costs a minute); after the load stops (~660 s, 82 → 65 °C) the severity relaxes.
    const inBand = inForceAt(decisions, 600_000);
    expect(inBand.severity).toBe('severe');
    const rpi5 = parseYaml(readFileSync(join(repoRoot, 'policies', 'rpi5.yaml'), 'utf8')) as { tiers: { name: string }[]; rules: { severityCaps: Record<string, string> } };
    expect(inBand.tierIndex).toBeGreaterThanOrEqual(rpi5.tiers.findIndex((t) => t.name === rpi5.rules.severityCaps.severe));
    expect(severityIndex(s.finalDecision.severity)).toBeLessThan(severityIndex('severe'));
  });

  it('Raspberry Pi 4B stressberry (rpi5 policy, bare board, peaks at 72 °C): 0 s fault-capped, light at the peak, none after', () => {
    const s = replay('stressberry', convert('stressberry'));
    expect(s.maxC['zone.cpu-thermal']).toBe(72);
    expectNoFaultCap(s, ['mem_avail_mb']);
    expect(s.timeInSeverityS.light).toBeGreaterThan(0);
    expect(s.timeInSeverityS.moderate).toBe(0);
    expect(s.finalDecision.severity).toBe('none');
  });
});
