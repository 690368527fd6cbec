/**
 * `policy import-pixel` on the two real Pixel Thermal HAL configs (Apache-2.0 copies in
 * test/fixtures/pixel/): the output validates, and every threshold Android's thermal status
 * sees arrives as a limit with the source's exact values. The expected values are read from
 * the source JSON here, independently of the importer.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importPixelConfig, ZERO_HYSTERESIS_BAND_C, type ImportResult } from '../../src/policy/import-pixel.js';
import { parsePolicy } from '../../src/policy/load.js';
import type { Policy } from '../../src/policy/types.js';
import { SEVERITIES } from '../../src/core/severity.js';
import { UserError } from '../../src/util/errors.js';
import { runCli, hasStackTrace, repoRoot } from '../helpers/cli.js';

const fixtures = fileURLToPath(new URL('../fixtures/pixel/', import.meta.url));
const shared = join(repoRoot, '..', 'shared', 'traces', 'real');
const templateFile = join(repoRoot, 'policies', 'default.yaml');
const templateText = readFileSync(templateFile, 'utf8');
const CONFIGS = ['pixel4a-sunfish_thermal_info_config.json', 'pixel8-shiba_thermal_info_config.json'];

type RawSensor = Record<string, unknown> & { Name: string; Type?: string };
const num = (v: unknown): number | undefined => (typeof v === 'string' && /^nan$/i.test(v) ? undefined : Number(v));

/** Source thresholds as (severity, set, clear), straight from the JSON. */
function sourceLevels(s: RawSensor) {
  const hot = (s.HotThreshold as unknown[] | undefined) ?? [];
  const hyst = (s.HotHysteresis as unknown[] | undefined) ?? [];
  const out: { severity: string; setAt: number; clearAt: number }[] = [];
  hot.forEach((v, i) => {
    const set = num(v);
    if (i === 0 || set === undefined) return;
    const h = num(hyst[i]) ?? 0;
    out.push({ severity: SEVERITIES[i], setAt: set, clearAt: set - (h > 0 ? h : ZERO_HYSTERESIS_BAND_C) });
  });
  return out;
}

describe.each(CONFIGS)('import-pixel %s', (configName) => {
  const file = join(fixtures, configName);
  const text = readFileSync(file, 'utf8');
  const source = JSON.parse(text) as { Sensors: RawSensor[] };
  let result: ImportResult;
  let policy: Policy;

  beforeAll(() => {
    result = importPixelConfig(text, file, { templateText, templateFile: 'policies/default.yaml' });
    const parsed = parsePolicy(result.yaml, 'imported.yaml');
    expect(parsed.problems).toEqual([]);
    policy = parsed.policy!;
  });

  it('is a byte-for-byte copy of the shared original (when present)', () => {
    const original = join(shared, configName);
    if (!existsSync(original)) return;
    expect(readFileSync(original)).toEqual(readFileSync(file));
  });

  it('validates, and every carried threshold equals the source value', () => {
    expect(policy).toBeDefined();
    let carried = 0;
    for (const s of source.Sensors) {
      const want = sourceLevels(s);
      if (want.length === 0) continue;
      const got = result.sensors.find((x) => x.pixel === s.Name);
      expect(got, `${s.Name} is accounted for`).toBeDefined();
      if (got!.signals.length === 0) {
        // Not carried: there must be a reason a reviewer can check.
        expect(got!.skipped ?? got!.impliedBy, `${s.Name} says why it was not carried`).toBeTruthy();
        if (got!.impliedBy) {
          const by = source.Sensors.find((x) => x.Name === got!.impliedBy)!;
          const byLevels = sourceLevels(by);
          for (const w of want) {
            const reach = byLevels.filter((b) => SEVERITIES.indexOf(b.severity as never) >= SEVERITIES.indexOf(w.severity as never)).map((b) => b.setAt);
            expect(Math.min(...reach)).toBeLessThanOrEqual(w.setAt);
          }
        }
        continue;
      }
      for (const signal of got!.signals) {
        const limit = policy.limits.find((l) => l.signal === signal);
        expect(limit, `limit on ${signal} for ${s.Name}`).toBeDefined();
        expect(limit!.direction).toBe('rising');
        expect(limit!.levels.map((l) => l.severity)).toEqual(want.map((w) => w.severity));
        limit!.levels.forEach((l, k) => {
          expect(l.setAt).toBe(want[k].setAt);
          expect(l.clearAt).toBeCloseTo(want[k].clearAt, 9);
        });
        carried++;
      }
    }
    expect(carried).toBeGreaterThan(0);
  });

  it('builds sensors from the same zones and weights as the source', () => {
    const byName = new Map(source.Sensors.map((s) => [s.Name, s]));
    for (const spec of policy.sensors) {
      const src = spec.source;
      if (!src) continue;
      if (src.kind === 'weighted') {
        // Find the Pixel WEIGHTED_AVG sensor with exactly these non-zero terms and offset.
        const match = source.Sensors.find((s) => {
          if (s.Formula !== 'WEIGHTED_AVG') return false;
          const combo = s.Combination as string[];
          const coef = s.Coefficient as number[];
          const terms = combo.map((z, i) => ({ zone: z, weight: coef[i] })).filter((t) => t.weight !== 0);
          return JSON.stringify(terms) === JSON.stringify(src.terms) && Math.abs(Number(s.Offset ?? 0) * Number(s.Multiplier) - src.offset) < 1e-9;
        });
        expect(match, `${spec.name} matches a Pixel WEIGHTED_AVG sensor`).toBeDefined();
        for (const t of src.terms) expect(byName.get(t.zone)?.VirtualSensor, `${t.zone} is a raw zone`).not.toBe(true);
      } else {
        for (const z of src.zones) {
          if (spec.name === 'soc_c' && !byName.has(z)) continue; // template patterns, when the config names no SoC zones
          expect(byName.has(z), `${spec.name} zone ${z} is a sensor of the config`).toBe(true);
          expect(byName.get(z)!.VirtualSensor).not.toBe(true);
        }
      }
    }
  });

  it('names what it could not carry over', () => {
    const head = result.yaml.split('\nversion: 1')[0];
    expect(head).toMatch(/NOT carried over/);
    const raw = JSON.parse(text) as { CoolingDevices?: { Name: string }[]; PowerRails?: { Name: string }[] };
    for (const c of raw.CoolingDevices ?? []) expect(head).toContain(c.Name);
    for (const r of raw.PowerRails ?? []) expect(head).toContain(r.Name);
    for (const s of source.Sensors.filter((x) => x.PIDInfo)) expect(head).toContain(s.Name);
  });
});

describe('import-pixel on specific known values', () => {
  const load = (name: string) => {
    const text = readFileSync(join(fixtures, name), 'utf8');
    const r = importPixelConfig(text, name, { templateText, templateFile: 'policies/default.yaml' });
    return parsePolicy(r.yaml, 'x.yaml').policy!;
  };

  it('Pixel 4a: skin 43/45/48/50/54/58 °C with 1.9 °C hysteresis; SoC severe 95, shutdown 125 (research/01 §2.3)', () => {
    const p = load(CONFIGS[0]);
    const skin = p.limits.find((l) => l.signal === 'skin_c')!;
    expect(skin.levels.map((l) => [l.severity, l.setAt])).toEqual([['light', 43], ['moderate', 45], ['severe', 48], ['critical', 50], ['emergency', 54], ['shutdown', 58]]);
    expect(skin.levels[0].clearAt).toBeCloseTo(41.1, 9);
    expect(p.sensors.find((s) => s.name === 'skin_c')!.source).toEqual({ kind: 'max', zones: ['skin-therm-monitor'] });
    const soc = p.limits.find((l) => l.signal === 'soc_c')!;
    expect(soc.levels.map((l) => [l.severity, l.setAt])).toEqual([['severe', 95], ['shutdown', 125]]);
    expect((p.sensors.find((s) => s.name === 'soc_c')!.source as unknown as { zones: string[] }).zones).toHaveLength(12);
  });

  it('Pixel 8: VIRTUAL-SKIN 39/43/45/46.5/52/55 °C on each of its nine weighted parts', () => {
    const p = load(CONFIGS[1]);
    const parts = p.limits.filter((l) => l.levels.length === 6 && l.levels[0].setAt === 39);
    expect(parts).toHaveLength(9);
    for (const l of parts) {
      expect(l.levels.map((x) => x.setAt)).toEqual([39, 43, 45, 46.5, 52, 55]);
      expect(l.levels[3].clearAt).toBeCloseTo(45.1, 9); // 1.4 °C hysteresis at CRITICAL
      expect(p.sensors.find((s) => s.name === l.signal)!.source!.kind).toBe('weighted');
    }
    // Hidden PID loops (e.g. VIRTUAL-SKIN-CPU-LIGHT-ODPM at 37 °C) must not become severities.
    expect(p.limits.some((l) => l.levels.some((x) => x.setAt === 37 && l.signal.includes('cpu')))).toBe(false);
  });
});

describe('import-pixel errors and the CLI', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'edgegov-pixel-'));

  it('bad JSON names file:line:col', () => {
    const text = '{\n  "Sensors": [\n    { "Name": "a", }\n  ]\n}\n';
    try {
      importPixelConfig(text, 'bad.json', { templateText, templateFile: 't' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).details.join('\n')).toMatch(/^bad\.json:3:\d+: /);
    }
  });

  it('a wrong threshold array names the sensor and its line', () => {
    const text = '{"Sensors": [\n {"Name": "ok", "Type": "SKIN", "Multiplier": 0.001},\n {"Name": "skin", "HotThreshold": [1, 2, "hot"]}\n]}';
    try {
      importPixelConfig(text, 'c.json', { templateText, templateFile: 't' });
      expect.unreachable();
    } catch (err) {
      expect((err as UserError).details.join('\n')).toMatch(/^c\.json:3:\d+: Sensors\[1\] \(skin\): "HotThreshold" must be an array of 7 entries/m);
    }
  });

  it('a template that is not a complete policy is the user\'s mistake (exit 1), named with its place', () => {
    const broken = join(tmp, 'broken.yaml');
    writeFileSync(broken, 'a: [\n');
    const r = runCli(['policy', 'import-pixel', join(fixtures, CONFIGS[0]), '--template', broken]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/broken\.yaml:2:1: /);
    const partial = join(tmp, 'partial.yaml');
    writeFileSync(partial, 'version: 1\nname: x\n');
    const p = runCli(['policy', 'import-pixel', join(fixtures, CONFIGS[0]), '--template', partial]);
    expect(p.code).toBe(1);
    expect(p.stderr).toMatch(/has no "model", "tiers", "rules", "control" section/);
    expect(hasStackTrace(r.stderr + p.stderr)).toBe(false);
    // A complete but invalid template: its problems at its own lines, not the skeleton's.
    const invalid = join(tmp, 'invalid-template.yaml');
    writeFileSync(invalid, readFileSync(templateFile, 'utf8').replace('dwell: 10s', 'dwel: 10s'));
    const i = runCli(['policy', 'import-pixel', join(fixtures, CONFIGS[0]), '--template', invalid]);
    expect(i.code).toBe(1);
    expect(i.stderr).toMatch(/invalid-template\.yaml:\d+:3: control\.dwel: unknown key "dwel"; did you mean "dwell"\?/);
    expect(i.stderr).not.toMatch(/<stdout>/);
  });

  it('--json without --out is refused (stdout carries the YAML then)', () => {
    const r = runCli(['policy', 'import-pixel', join(fixtures, CONFIGS[0]), '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--json needs --out/);
    expect(r.stdout).toBe('');
  });

  it('writes a policy that `edgegov validate` accepts, and fails cleanly on a missing file', () => {
    const out = join(tmp, 'pixel8.yaml');
    const r = runCli(['policy', 'import-pixel', join(fixtures, CONFIGS[1]), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const v = runCli(['validate', out]);
    expect(v.code, v.stderr).toBe(0);
    const stdout = runCli(['policy', 'import-pixel', join(fixtures, CONFIGS[0])]);
    expect(stdout.code).toBe(0);
    expect(stdout.stdout).toMatch(/^# edgegov policy skeleton/);
    const missing = runCli(['policy', 'import-pixel', join(tmp, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(hasStackTrace(missing.stderr)).toBe(false);
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, '{"Sensors": 3}');
    const b = runCli(['policy', 'import-pixel', bad]);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/bad\.json:1:1: expected an object with a "Sensors" array/);
  });
});
