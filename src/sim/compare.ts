/**
 * Controllers × scenarios × devices, and the acceptance checks of issue 5 for each cell:
 * edgegov has no second at or above a critical limit, no OOM kill, no time below the decode
 * floor, and at least the quality-weighted tokens of every baseline.
 */
import type { Policy } from '../policy/types.js';
import type { DeviceModel } from './device.js';
import type { Scenario } from './scenario.js';
import { runSimulation, type SimSummary } from './run.js';
import type { ControllerName } from './controllers.js';
import { criticalSeconds } from './format.js';

export interface CompareCell {
  device: string;
  scenario: string;
  criticalS: number;
  oomEvents: number;
  belowFloorS: number;
  /** edgegov's quality-weighted tokens minus the best baseline's (≥ 0 = edgegov wins or ties). */
  qwtMargin: number;
  bestBaseline?: string;
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
  controller: ControllerName;
}

export function checkCells(runs: SimSummary[]): CompareCell[] {
  const cells: CompareCell[] = [];
  const keys = [...new Set(runs.map((r) => `${r.device}\u0000${r.scenario}`))];
  for (const key of keys) {
    const [device, scenario] = key.split('\u0000');
    const group = runs.filter((r) => r.device === device && r.scenario === scenario);
    const eg = group.find((r) => r.controller === 'edgegov');
    if (!eg) continue;
    const baselines = group.filter((r) => r.controller !== 'edgegov');
    const best = baselines.reduce<SimSummary | undefined>((b, r) => (!b || r.qualityWeightedTokens > b.qualityWeightedTokens ? r : b), undefined);
    const qwtMargin = Math.round((eg.qualityWeightedTokens - (best?.qualityWeightedTokens ?? 0)) * 1000) / 1000;
    const criticalS = criticalSeconds(eg);
    cells.push({
      device, scenario, criticalS, oomEvents: eg.oomEvents, belowFloorS: eg.belowFloorS, qwtMargin, bestBaseline: best?.controller,
      holds: criticalS === 0 && eg.oomEvents === 0 && eg.belowFloorS === 0 && qwtMargin >= 0,
    });
  }
  return cells;
}

export function runCompare(jobs: CompareJob[], onRun?: (done: number, total: number) => void): CompareResult {
  const runs: SimSummary[] = [];
  for (const j of jobs) {
    runs.push(runSimulation({ device: j.device, scenario: j.scenario, policy: j.policy, controller: j.controller }));
    onRun?.(runs.length, jobs.length);
  }
  return { runs, cells: checkCells(runs) };
}
