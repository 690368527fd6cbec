/**
 * Controllers × scenarios × devices, and the verdict per device × scenario cell (SPEC §10):
 * edgegov has no second at or above a critical limit, no OOM kill, no time below the decode
 * floor (hard constraints), a score ≥ 0.98× the best fixed tier in hindsight and ≥ `stepwise`
 * and `pid`; and how its energy per unit of score compares.
 */
import type { Policy } from '../policy/types.js';
import type { DeviceModel } from './device.js';
import type { Scenario } from './scenario.js';
import { runSimulation, type SimSummary } from './run.js';
import { staticTierControllers, type ControllerName } from './controllers.js';
import { criticalSeconds } from './format.js';

/** edgegov must reach this share of `best-static`'s score on every cell (SPEC §10). */
export const BEST_STATIC_CELL_RATIO = 0.98;

export interface CompareCell {
  device: string;
  scenario: string;
  seed: number;
  criticalS: number;
  oomEvents: number;
  belowFloorS: number;
  score: number;
  /** The best fixed tier in hindsight, and its score. */
  bestStaticTier?: string;
  bestStaticScore?: number;
  /** edgegov's score ÷ best-static's (undefined without a best-static run). */
  vsBestStatic?: number;
  /** edgegov's score ÷ the best of `stepwise` and `pid` that ran. */
  vsKernel?: number;
  /** edgegov's energy per unit of score ÷ best-static's (≤ 1 = at least as frugal). */
  energyPerScoreVsBestStatic?: number;
  holds: boolean;
}

export interface CompareResult {
  runs: SimSummary[];
  cells: CompareCell[];
}

export interface CompareJob {
  device: DeviceModel;
  policy: Policy;
  scenario: Scenario;
  /** A controller, or `best-static` (every `static:<tier>` of the policy, best kept). */
  controller: ControllerName;
  seed?: number;
}

const meetsConstraints = (r: SimSummary) => criticalSeconds(r) === 0 && r.oomEvents === 0 && r.belowFloorS === 0 && !r.deviceDied;

/**
 * The best of a cell's `static:<tier>` runs in hindsight: the highest score among those that
 * keep the hard constraints (an integrator would not ship a tier that overheats, gets killed or
 * drains the phone), or the highest of all when none does.
 */
export function bestStatic(staticRuns: readonly SimSummary[]): SimSummary | undefined {
  const ok = staticRuns.filter(meetsConstraints);
  const pool = ok.length ? ok : staticRuns;
  const best = pool.reduce<SimSummary | undefined>((b, r) => (!b || r.score > b.score ? r : b), undefined);
  if (!best) return undefined;
  return { ...best, controller: 'best-static', bestStaticTier: best.controller.slice('static:'.length) };
}

const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 10000) / 10000 : a > 0 ? Infinity : 1);

export function checkCells(runs: SimSummary[]): CompareCell[] {
  const cells: CompareCell[] = [];
  const keys = [...new Set(runs.map((r) => `${r.device}\u0000${r.scenario}\u0000${r.seed}`))];
  for (const key of keys) {
    const [device, scenario, seed] = key.split('\u0000');
    const group = runs.filter((r) => r.device === device && r.scenario === scenario && String(r.seed) === seed);
    const eg = group.find((r) => r.controller === 'edgegov');
    if (!eg) continue;
    const best = group.find((r) => r.controller === 'best-static');
    const kernel = group.filter((r) => r.controller === 'stepwise' || r.controller === 'pid');
    const criticalS = criticalSeconds(eg);
    const cell: CompareCell = {
      device, scenario, seed: Number(seed), criticalS, oomEvents: eg.oomEvents, belowFloorS: eg.belowFloorS, score: eg.score, holds: false,
    };
    if (best) {
      cell.bestStaticTier = best.bestStaticTier;
      cell.bestStaticScore = best.score;
      cell.vsBestStatic = ratio(eg.score, best.score);
      if (eg.energyPerScoreJ !== undefined && best.energyPerScoreJ !== undefined) cell.energyPerScoreVsBestStatic = ratio(eg.energyPerScoreJ, best.energyPerScoreJ);
    }
    if (kernel.length) cell.vsKernel = ratio(eg.score, Math.max(...kernel.map((r) => r.score)));
    cell.holds = criticalS === 0 && eg.oomEvents === 0 && eg.belowFloorS === 0 &&
      (cell.vsBestStatic === undefined || cell.vsBestStatic >= BEST_STATIC_CELL_RATIO) && (cell.vsKernel === undefined || cell.vsKernel >= 1);
    cells.push(cell);
  }
  return cells;
}

/** Σ edgegov score ÷ Σ best-static score over cells that have both. */
export function summedVsBestStatic(cells: readonly CompareCell[]): number | undefined {
  const both = cells.filter((c) => c.bestStaticScore !== undefined);
  if (!both.length) return undefined;
  return ratio(both.reduce((a, c) => a + c.score, 0), both.reduce((a, c) => a + c.bestStaticScore!, 0));
}

/** The runs a job stands for: `best-static` is every fixed tier of the policy. */
function expand(j: CompareJob): ControllerName[] {
  return j.controller === 'best-static' ? staticTierControllers(j.policy) : [j.controller];
}

export function runCompare(jobs: CompareJob[], onRun?: (done: number, total: number) => void): CompareResult {
  const runs: SimSummary[] = [];
  const total = jobs.reduce((a, j) => a + expand(j).length, 0);
  let done = 0;
  // `static` is `static:<richest>`: run once, reported under both names.
  const cache = new Map<string, SimSummary>();
  const one = (j: CompareJob, controller: ControllerName): SimSummary => {
    const name = controller === 'static' ? `static:${j.policy.tiers[0].name}` : controller;
    const key = `${j.device.name}\u0000${j.scenario.name}\u0000${j.seed ?? j.scenario.seed}\u0000${j.policy.file}\u0000${name}`;
    let r = cache.get(key);
    if (!r) {
      r = runSimulation({ device: j.device, scenario: j.scenario, policy: j.policy, controller: name, seed: j.seed });
      cache.set(key, r);
    }
    onRun?.(++done, total);
    return controller === 'static' ? { ...r, controller: 'static' } : r;
  };
  for (const j of jobs) {
    if (j.controller === 'best-static') {
      const tierRuns = expand(j).map((c) => one(j, c));
      const best = bestStatic(tierRuns);
      if (best) runs.push(best);
    } else runs.push(one(j, j.controller));
  }
  return { runs, cells: checkCells(runs) };
}
