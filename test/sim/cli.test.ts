/**
 * `simulate` and `compare` as a user runs them (the built CLI in a child process):
 * reproducible JSON, a trace that replays to the same decisions, the compare table.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runCli, hasStackTrace } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'edgegov-sim-cli-'));

beforeAll(() => { execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: repoRoot, stdio: 'ignore' }); }, 120_000);

describe('edgegov simulate', () => {
  it('same seed → byte-identical --json; another seed → a different run', () => {
    const args = ['simulate', '--device', 'midrange-phone', '--scenario', 'bursty', '--seed', '11', '--json'];
    const a = runCli(args), b = runCli(args);
    expect(a.code).toBe(0);
    expect(a.stderr).toBe('');
    expect(a.stdout).toBe(b.stdout);
    const s = JSON.parse(a.stdout);
    for (const k of ['device', 'scenario', 'controller', 'durationS', 'tokens', 'cloudTokens', 'qualityWeightedTokens', 'maxC', 'secondsAboveLimit', 'belowFloorS', 'oomEvents', 'knobChanges', 'energyJ', 'score']) {
      expect(s).toHaveProperty(k);
    }
    expect(s.maxC).toHaveProperty('soc');
    expect(s.maxC).toHaveProperty('skin');
    expect(s.maxC).toHaveProperty('battery');
    expect(s.seed).toBe(11);
    const c = runCli(['simulate', '--device', 'midrange-phone', '--scenario', 'bursty', '--seed', '12', '--json']);
    expect(c.stdout).not.toBe(a.stdout);
  });

  it('--trace-out replays through `edgegov replay` to exactly the decisions the simulation made', () => {
    const trace = join(dir, 'sim.csv');
    const simDecisions = join(dir, 'sim-decisions.jsonl');
    const replayDecisions = join(dir, 'replay-decisions.jsonl');
    const sim = runCli(['simulate', '--device', 'flagship-phone', '--scenario', 'hot-car', '--trace-out', trace, '--decisions', simDecisions, '--json']);
    expect(sim.code).toBe(0);
    const rep = runCli(['replay', trace, '--policy', 'policies/flagship-phone.yaml', '--decisions', replayDecisions, '--json']);
    expect(rep.code).toBe(0);
    const a = readFileSync(simDecisions, 'utf8');
    const b = readFileSync(replayDecisions, 'utf8');
    expect(a.split('\n').length).toBeGreaterThan(3);
    expect(b).toBe(a);
    const summary = JSON.parse(rep.stdout);
    expect(summary.durationS).toBeCloseTo(JSON.parse(sim.stdout).durationS, -1);
  });

  it('prints a readable summary by default and rejects a bad controller or seed', () => {
    const r = runCli(['simulate', '--device', 'rpi5', '--scenario', 'long-document', '--controller', 'stepwise']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/rpi5 · long-document · stepwise/);
    expect(r.stdout).toMatch(/score +\d+\.\d \(Σ QoE × quality × context fidelity over \d+ requests/);
    expect(r.stdout).toMatch(/quality-weighted/);
    const tier = runCli(['simulate', '--device', 'rpi5', '--scenario', 'long-document', '--controller', 'static:lean', '--json']);
    expect(tier.code, tier.stderr).toBe(0);
    expect(JSON.parse(tier.stdout)).toMatchObject({ controller: 'static:lean', timeInTierS: { lean: 1800 } });
    const noTier = runCli(['simulate', '--device', 'rpi5', '--controller', 'static:turbo']);
    expect(noTier.code).toBe(1);
    expect(noTier.stderr).toMatch(/no tier 'turbo' in policy rpi5 \(tiers: full, balanced, lean, minimal\)/);
    const best = runCli(['simulate', '--controller', 'best-static']);
    expect(best.code).toBe(1);
    expect(best.stderr).toMatch(/best of several runs: use `edgegov compare/);
    const bad = runCli(['simulate', '--controller', 'magic']);
    expect(bad.code).toBe(1);
    expect(hasStackTrace(bad.stderr)).toBe(false);
    const seed = runCli(['simulate', '--seed', '1.5']);
    expect(seed.code).toBe(1);
    expect(seed.stderr).toMatch(/--seed must be an integer/);
  });
});

describe('edgegov compare', () => {
  it('runs devices × scenarios × controllers into a table with the acceptance verdict', () => {
    const r = runCli(['compare', '--devices', 'rpi5', '--scenarios', 'sustained-chat,bursty', '--controllers', 'edgegov,static']);
    expect(r.code).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => l.startsWith('rpi5'));
    expect(rows).toHaveLength(4);
    expect(r.stdout).toMatch(/edgegov holds on \d\/2 cells \(0 s at critical, 0 OOM, decode floor held\)/);
  });
  it('--json gives every run and a cell per device × scenario; best-static names the best fixed tier', () => {
    const r = runCli(['compare', '--devices', 'rk3588', '--scenarios', 'hot-car', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.runs.map((x: { controller: string }) => x.controller)).toEqual(['edgegov', 'static', 'best-static', 'stepwise', 'pid']);
    expect(j.cells).toHaveLength(1);
    expect(j.cells[0]).toMatchObject({ device: 'rk3588', scenario: 'hot-car' });
    // best-static is the best score among the policy's fixed tiers (each run separately here).
    const best = j.runs.find((x: { controller: string }) => x.controller === 'best-static');
    const tiers = runCli(['compare', '--devices', 'rk3588', '--scenarios', 'hot-car', '--controllers', 'static:full,static:balanced,static:lean,static:minimal', '--json']);
    const scores = JSON.parse(tiers.stdout).runs.map((x: { controller: string; score: number }) => [x.controller, x.score]);
    const top = scores.reduce((a: [string, number], b: [string, number]) => (b[1] > a[1] ? b : a));
    expect(best.score).toBe(top[1]);
    expect(`static:${best.bestStaticTier}`).toBe(top[0]);
    expect(j.cells[0].bestStaticTier).toBe(best.bestStaticTier);
    expect(j.cells[0].vsBestStatic).toBeCloseTo(j.runs[0].score / best.score, 3);
  });
  it('--seeds runs every cell at each seed', () => {
    const r = runCli(['compare', '--devices', 'rpi5', '--scenarios', 'hot-car', '--controllers', 'edgegov,static', '--seeds', '1-3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).cells.map((c: { seed: number }) => c.seed)).toEqual([1, 2, 3]);
    const bad = runCli(['compare', '--seeds', '5-1']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--seeds: range '5-1' runs backwards/);
  });
  it('rejects an unknown controller with exit 1', () => {
    const r = runCli(['compare', '--controllers', 'edgegov,bangbang']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown controller 'bangbang'/);
  });
});

describe('simulate summary: above limits', () => {
  it('lists only the limits that were crossed, or says none were', () => {
    const calm = runCli(['simulate', '--device', 'flagship-phone', '--scenario', 'hot-car']);
    expect(calm.code, calm.stderr).toBe(0);
    expect(calm.stdout).toMatch(/^ {2}above limits +none \(0 s at severe or worse on soc_c, skin_c, battery_c\)$/m);
    const hot = runCli(['simulate', '--device', 'rk3588-boxed', '--scenario', 'hot-car', '--controller', 'static', '--json']);
    const s = JSON.parse(hot.stdout) as { secondsAboveLimit: Record<string, number> };
    const crossed = Object.entries(s.secondsAboveLimit).filter(([, v]) => v > 0);
    expect(crossed.length).toBeGreaterThan(0);
    const human = runCli(['simulate', '--device', 'rk3588-boxed', '--scenario', 'hot-car', '--controller', 'static']);
    const line = human.stdout.split('\n').find((l) => l.startsWith('  above limits'))!;
    expect(line).toBe(`  above limits      ${crossed.map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')}`);
    expect(line).not.toMatch(/ 0\.0 s/);
  });
});

describe('compare verdict without baselines', () => {
  it('judges only against the baselines that ran', () => {
    const alone = runCli(['compare', '--devices', 'rpi5', '--scenarios', 'hot-car', '--controllers', 'edgegov']);
    expect(alone.code, alone.stderr).toBe(0);
    expect(alone.stdout).toMatch(/edgegov holds on \d\/1 cells \(0 s at critical, 0 OOM, decode floor held\)/);
    expect(alone.stdout).not.toMatch(/best-static|stepwise and pid/);
    const pair = runCli(['compare', '--devices', 'rpi5', '--scenarios', 'hot-car', '--controllers', 'edgegov,best-static,pid']);
    expect(pair.stdout).toMatch(/score ≥ 0\.98× best-static, ≥ stepwise and pid/);
    expect(pair.stdout).toMatch(/score summed over cells: \d\.\d{3}× best-static/);
  });
});
