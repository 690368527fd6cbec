/**
 * The real traces in ../shared/traces/real (not copied into the repo: some have no licence)
 * converted with the recipes of docs/traces.md and replayed through policies/default.yaml.
 * Skips when ../shared or the policy is absent.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { repoRoot, runCli, hasStackTrace } from '../helpers/cli.js';
import { readTraceAll } from '../../src/trace/reader.js';
import { SEVERITIES, severityIndex } from '../../src/core/severity.js';
import type { Decision } from '../../src/core/decision.js';

const real = resolve(repoRoot, '..', 'shared', 'traces', 'real');
const policy = join(repoRoot, 'policies', 'default.yaml');
const available = existsSync(real) && existsSync(policy);
const dir = mkdtempSync(join(tmpdir(), 'edgegov-real-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The recipes, exactly as docs/traces.md gives them. */
export const RECIPES = {
  s25: {
    input: 'galaxy-s25_sd8elite_llm-opencl_stress-thermal_runs1-3.flat.csv',
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
  c7pro: {
    input: 'galaxy-c7pro_sd626_stress-recovery_1hz.csv',
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
    args: ['--header-line', '2', '--lenient', '--map', 't_ms=sec*1000', '--map', 'zone.cpu-thermal=tmp', '--map', 'cpu_mhz=clk'],
  },
} as const;

function convert(name: keyof typeof RECIPES): string {
  const r = RECIPES[name];
  const out = join(dir, `${name}.csv`);
  const res = runCli(['trace', 'convert', join(real, r.input), '--out', out, ...r.args, '--json']);
  expect(res.stderr).toBe('');
  expect(res.code, res.stderr).toBe(0);
  return out;
}

function replay(trace: string, decisions?: string) {
  const r = runCli(['replay', trace, '--policy', policy, '--json', ...(decisions ? ['--decisions', decisions] : [])]);
  expect(hasStackTrace(r.stderr)).toBe(false);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
}

const SPEC8 = ['samples', 'durationS', 'decisionChanges', 'knobChangesPerMin', 'timeInSeverityS', 'timeInTierS', 'timeOffloadedS', 'maxC', 'sensorFaults', 'finalDecision'];

describe.skipIf(!available)('real traces through policies/default.yaml', () => {
  it('Galaxy S25: every SPEC §8 field, and a severity escalation while the GPU zones pass 75 °C', async () => {
    const trace = convert('s25');
    const decisionsFile = join(dir, 's25.decisions.jsonl');
    const s = replay(trace, decisionsFile);
    for (const k of SPEC8) expect(s).toHaveProperty(k);
    expect(Object.keys(s.timeInSeverityS)).toEqual([...SEVERITIES]);
    expect(s.samples).toBe(78);
    expect(s.durationS).toBeCloseTo(449, 0);
    expect(s.maxC['zone.gpuss-5']).toBeGreaterThan(80);
    expect(s.decisionChanges).toBeGreaterThan(0);

    const decisions: Decision[] = readFileSync(decisionsFile, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    const { samples } = await readTraceAll(trace);
    const hot = samples.filter((x) => Math.max(...Object.entries(x).filter(([k]) => k.startsWith('zone.gpuss')).map(([, v]) => v ?? -Infinity)) >= 75);
    expect(hot.length).toBeGreaterThan(5);
    for (const x of hot) {
      const inForce = decisions.filter((d) => d.t_ms <= x.t_ms).at(-1)!;
      expect(severityIndex(inForce.severity), `severity at t=${x.t_ms} ms`).toBeGreaterThan(severityIndex('none'));
    }
    // Before the load (first sample, zones ~36 °C) there is no thermal severity.
    expect(decisions[0].severity).toBe('none');
  });

  it('Galaxy C7 Pro (board thermistor as skin): the load phase escalates on skin_c and recovers', () => {
    const s = replay(convert('c7pro'));
    expect(s.samples).toBe(1480);
    expect(s.maxC.skin_c).toBe(50);
    expect(s.timeInSeverityS.moderate + s.timeInSeverityS.severe + s.timeInSeverityS.critical).toBeGreaterThan(0);
    expect(s.finalDecision.severity).toBe('none');
    // No SoC hotspot in this trace: the critical soc_c sensor is reported as a fault, not read as zero.
    expect(s.sensorFaults.bySignal.soc_c).toBeGreaterThanOrEqual(1);
    expect(s.finalDecision.safe).toBe(true);
  });

  it('Raspberry Pi 4 (throttle band 80–82 °C): soc_c built from the cpu-thermal zone escalates; the end-date footer is a counted skip', () => {
    const out = join(dir, 'rpi.csv');
    const r = runCli(['trace', 'convert', join(real, RECIPES.rpi.input), '--out', out, ...RECIPES.rpi.args, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const conv = JSON.parse(r.stdout);
    expect(conv.samples).toBe(720);
    expect(conv.skippedByKind).toEqual({ 'cell-count': 1 });
    const s = replay(out);
    expect(s.maxC['zone.cpu-thermal']).toBe(82);
    expect(s.timeInSeverityS.moderate).toBeGreaterThan(0);
    expect(s.timeInSeverityS.none).toBeGreaterThan(0);
  });
});
