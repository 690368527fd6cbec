/**
 * The shipped policies: valid through the real CLI, valid against the COMMITTED JSON Schema
 * (ajv, draft-07), the committed schema equals `edgegov schema`, and the default policy
 * compiles to the numbers its YAML says (units normalised).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/policy/load.js';
import { synthesizeModels } from '../../src/model/synth.js';
import { policySchemaText } from '../../src/cli/commands/schema.js';
import { hasStackTrace, repoRoot, runCli } from '../helpers/cli.js';

const shipped = readdirSync(join(repoRoot, 'policies')).filter((f) => f.endsWith('.yaml')).sort().map((f) => `policies/${f}`);
const schemaPath = join(repoRoot, 'policies/schema/policy.schema.json');
const read = (rel: string) => readFileSync(join(repoRoot, rel), 'utf8');
const MiB = 2 ** 20;
const GiB = 2 ** 30;

describe('shipped policies', () => {
  it('are the five device classes and the synthetic-model policy', () => {
    expect(shipped).toEqual(['policies/default.yaml', 'policies/flagship-phone.yaml', 'policies/midrange-phone.yaml', 'policies/rk3588.yaml', 'policies/rpi5.yaml', 'policies/synthetic.yaml']);
  });

  it('policies/synthetic.yaml names exactly the quants `model synth` writes, with their sizes and geometry', async () => {
    const { policy, problems } = parsePolicy(read('policies/synthetic.yaml'), 'policies/synthetic.yaml');
    expect(problems).toEqual([]);
    const out = mkdtempSync(join(tmpdir(), 'edgegov-synth-policy-'));
    try {
      const { manifest } = await synthesizeModels({ outDir: out, params: 20e6, quants: ['f16', 'q8_0', 'q4_0'], seed: 1, label: '20M' });
      expect([...new Set(policy!.tiers.map((t) => t.quant))].sort()).toEqual(manifest.files.map((f) => f.quant).sort());
      for (const f of manifest.files) {
        const q = policy!.model.quants.find((x) => x.name === f.quant)!;
        expect(Math.abs(q.weightsBytes - f.bytes) / f.bytes).toBeLessThan(0.01);
      }
      const s = manifest.shape;
      expect(policy!.model.kvBytesPerToken).toBe(2 * s.blockCount * s.headCountKv * (s.embeddingLength / s.headCount) * 2);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('edgegov validate policies/*.yaml exits 0', () => {
    const r = runCli(['validate', ...shipped]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(shipped.map((f) => `${f}: valid`));
  });

  it.each(shipped)('%s starts with the yaml-language-server schema line and compiles', (f) => {
    const text = read(f);
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=./schema/policy.schema.json');
    const r = parsePolicy(text, f);
    expect(r.problems).toEqual([]);
    expect(r.policy?.tiers.map((t) => t.name)).toContain(r.policy?.control.safeTier);
  });

  it('the committed schema validates every shipped policy (ajv, draft-07)', () => {
    const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
    const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')));
    for (const f of shipped) {
      const ok = validate(parse(read(f)));
      expect({ f, errors: validate.errors ?? null, ok }).toEqual({ f, errors: null, ok: true });
    }
    // …and it is a real check: it rejects an unknown key and a wrong type.
    const broken = parse(read('policies/default.yaml')) as Record<string, Record<string, unknown>>;
    broken.control.dwel = '10s';
    broken.tiers = 'many' as unknown as Record<string, unknown>;
    expect(validate(broken)).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath)).toEqual(expect.arrayContaining(['/control', '/tiers']));
  });

  it('the committed schema equals `edgegov schema` (regenerate with npm run gen:schema)', () => {
    const committed = readFileSync(schemaPath, 'utf8');
    expect(policySchemaText()).toBe(committed);
    const r = runCli(['schema']);
    expect(r.code).toBe(0);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(r.stdout).toBe(committed);
    expect(JSON.parse(r.stdout).$schema).toBe('http://json-schema.org/draft-07/schema#');
  });
});

describe('default policy compiles to normalised numbers', () => {
  const { policy, problems } = parsePolicy(read('policies/default.yaml'), 'policies/default.yaml');
  it('has no problems', () => expect(problems).toEqual([]));
  const p = policy!;

  it('control: durations in ms', () => {
    expect(p.control).toEqual({
      samplePeriodMs: 500, dwellMs: 10_000, relaxStep: 1, maxEscalateStep: Infinity, forecastHorizonMs: 20_000,
      slopeWindowMs: 10_000, smoothingMs: 1_000, safeTier: 'minimal', leaseTtlMs: 3_000, holdMs: 5_000, stuckAfterMs: 120_000,
    });
  });

  it('memory in MiB, model sizes in bytes (decimal GB exact, KiB binary)', () => {
    expect(p.rules.memory).toEqual({ reserveMb: 300, onShortage: 'clamp-context', minContextLength: 512 });
    expect(p.model.kvBytesPerToken).toBe(2 * 28 * 8 * 128 * 2); // 112 KiB
    expect(p.model.overheadBytes).toBe(200 * MiB);
    expect(p.model.batchBytesPerToken).toBe(501 * 1024);
    expect(p.model.quants.map((q) => [q.name, q.weightsBytes])).toEqual([
      ['q8_0', 3_410_000_000], ['q4_k_m', 1_960_000_000], ['q3_k_m', 1_560_000_000], ['q2_k', 1_270_000_000],
    ]);
  });

  it('limits: thresholds in signal units, clear from the band, direction inferred', () => {
    const soc = p.limits.find((l) => l.signal === 'soc_c')!;
    expect(soc.direction).toBe('rising');
    expect(soc.levels[0]).toEqual({ severity: 'light', setAt: 70, clearAt: 67 });
    const skin = p.limits.find((l) => l.signal === 'skin_c')!;
    expect(skin.levels.map((l) => [l.setAt, l.clearAt])).toEqual([[39, 37.1], [43, 41.1], [45, 43.1], [46.5, 45.1], [52, 50.1], [55, 53.1]]);
    const mem = p.limits.find((l) => l.signal === 'mem_avail_mb')!;
    expect(mem.direction).toBe('falling');
    expect(mem.levels[0]).toEqual({ severity: 'moderate', setAt: 800, clearAt: 1000 });
    const pct = p.limits.find((l) => l.signal === 'battery_pct')!;
    expect(pct.levels[0]).toEqual({ severity: 'light', setAt: 20, clearAt: 22 });
    expect(p.limits.find((l) => l.signal === 'battery_w')!.levels[0]).toEqual({ severity: 'light', setAt: 4.5, clearAt: 4 });
  });

  it('sensors: soc_c is virtual over cpu/gpu/soc zones, ranges and slew per second', () => {
    const soc = p.sensors.find((s) => s.name === 'soc_c')!;
    expect(soc).toMatchObject({ min: -20, max: 130, critical: true, maxSlewPerS: 30 });
    expect(soc.source?.kind).toBe('max');
    const zones = soc.source?.kind === 'max' ? soc.source.zones : [];
    expect(zones).toEqual(expect.arrayContaining(['cpu*', 'gpu*', 'soc-thermal']));
    expect(p.sensors.find((s) => s.name === 'skin_c')).toMatchObject({ critical: true, holdMs: 40_000 });
    expect(p.sensors.find((s) => s.name === 'mem_avail_mb')).toMatchObject({ min: 0, max: 1024 * 1024, maxSlewPerS: Infinity });
  });

  it('tiers: 4–5, richest first, a safe tier, and a lean one within ~1.5 GiB', () => {
    expect(p.tiers.length).toBeGreaterThanOrEqual(4);
    expect(p.tiers.length).toBeLessThanOrEqual(5);
    p.tiers.forEach((t, i) => expect(t.index).toBe(i));
    const need = (i: number) => {
      const t = p.tiers[i];
      const q = p.model.quants.find((x) => x.name === t.quant)!;
      return q.weightsBytes + p.model.kvBytesPerToken * t.contextLength + p.model.batchBytesPerToken * t.batchSize + p.model.overheadBytes;
    };
    for (let i = 1; i < p.tiers.length; i++) expect(need(i)).toBeLessThanOrEqual(need(i - 1));
    expect(need(p.tiers.length - 1)).toBeLessThanOrEqual(1.5 * GiB);
    expect(p.rules.severityCaps).toEqual({ none: 'full', light: 'balanced', moderate: 'lean', severe: 'minimal', critical: 'tiny', emergency: 'tiny', shutdown: 'tiny' });
    expect(p.rules.offload).toEqual({ cloudAllowed: true, cloudAtSeverity: 'severe', pauseAtSeverity: 'emergency', minLocalTokS: 5 });
    expect(p.rules.battery).toEqual({ lowChargeCaps: [{ belowPct: 15, tier: 'lean' }, { belowPct: 5, tier: 'minimal' }], onBatteryTier: 'balanced' });
  });
});
