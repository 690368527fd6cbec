/**
 * Issue 22 acceptance: the shipped device-class policies × every shipped scenario × seeds 1–20,
 * edgegov against the naive `static`, `best-static` (the best fixed tier per cell in hindsight),
 * `stepwise` and `pid` (IPA), on the user-value score (docs/simulator.md "Score"):
 *  - hard constraints on every cell: 0 s at or above a critical limit, 0 OOM kills, the decode
 *    floor held;
 *  - score ≥ 0.98× best-static on every cell, ≥ 1.10× summed over cells; ≥ stepwise and pid;
 *  - energy per unit of score ≤ best-static's on at least 80 % of cells;
 *  - knob and decision changes a user would accept.
 * The table is printed. Cells that do not yet meet a per-cell bar are listed below by name
 * (KNOWN_SHORT): the test fails when any other cell misses, and when a listed one no longer does
 * (so the list only shrinks). Issue 22 stays open while it is not empty.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { listDevices, loadDevice } from '../../src/sim/device.js';
import { listScenarios, loadScenario } from '../../src/sim/scenario.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import { defaultPolicyPath } from '../../src/sim/resolve.js';
import { BEST_STATIC_CELL_RATIO, runCompare, summedVsBestStatic, type CompareResult, type CompareJob } from '../../src/sim/compare.js';
import { CONTROLLERS } from '../../src/sim/controllers.js';
import { criticalSeconds, formatCellTable } from '../../src/sim/format.js';
import { runSimulation } from '../../src/sim/run.js';
import type { Policy } from '../../src/policy/types.js';

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);

/**
 * Engine knob changes per minute, averaged over a run, that a demanding user would accept
 * (docs/simulator.md "Knob changes"): every quant swap is a visible stall (reload + re-prefill:
 * ~12 s on a flagship, about a minute on an SBC).
 */
const MAX_KNOB_CHANGES_PER_MIN = 0.5;
/** Published decision changes per minute (knobs, offload, severity), averaged. */
const MAX_DECISION_CHANGES_PER_MIN = 2;

/**
 * Cells (device · scenario · seed) where edgegov is not yet within 0.98× of the best fixed tier in
 * hindsight, or below stepwise/pid, measured with this commit (docs/simulator.md "Results" says
 * why: boards without a cloud where the best fixed tier depends on how hot the work will run, and
 * the cloud dropping mid-session).
 */
const KNOWN_SHORT = new Set<string>([
  'flagship-phone · cloud-unreachable · 2',
  'flagship-phone · low-battery · 2',
  'flagship-phone · low-battery · 6',
  'flagship-phone · low-battery · 10',
  'flagship-phone · low-battery · 12',
  'flagship-phone · cloud-unreachable · 20',
  'midrange-phone · cloud-unreachable · 5',
  'midrange-phone · low-battery · 10',
  'midrange-phone · low-battery · 12',
  'midrange-phone · cloud-unreachable · 15',
  'rk3588 · cloud-unreachable · 5',
  'rk3588 · cloud-unreachable · 6',
  'rk3588 · cloud-unreachable · 10',
  'rk3588 · cloud-unreachable · 18',
  'rk3588 · cloud-unreachable · 20',
  'rk3588-boxed · cloud-unreachable · 10',
  'rpi5 · bursty · 1',
  'rpi5 · long-document · 1',
  'rpi5 · bursty · 2',
  'rpi5 · long-document · 4',
  'rpi5 · bursty · 5',
  'rpi5 · long-document · 5',
  'rpi5 · bursty · 6',
  'rpi5 · long-document · 6',
  'rpi5 · bursty · 7',
  'rpi5 · bursty · 8',
  'rpi5 · long-document · 9',
  'rpi5 · background-app · 10',
  'rpi5 · cloud-unreachable · 10',
  'rpi5 · long-document · 10',
  'rpi5 · bursty · 12',
  'rpi5 · bursty · 13',
  'rpi5 · charging-chat · 13',
  'rpi5 · flat-sensors · 13',
  'rpi5 · sustained-chat · 13',
  'rpi5 · bursty · 14',
  'rpi5 · hot-car · 14',
  'rpi5 · background-app · 15',
  'rpi5 · long-document · 15',
  'rpi5 · bursty · 16',
  'rpi5 · bursty · 17',
  'rpi5 · long-document · 17',
  'rpi5 · bursty · 18',
  'rpi5 · bursty · 19',
  'rpi5 · long-document · 19',
]);
/** Cells where the decode floor is not yet held (a hard constraint; none since rk3588's caps were retuned). */
const KNOWN_FLOOR = new Set<string>([]);

let result: CompareResult;
const policies = new Map<string, Policy>();
const key = (c: { device: string; scenario: string; seed: number }) => `${c.device} · ${c.scenario} · ${c.seed}`;

beforeAll(async () => {
  const jobs: CompareJob[] = [];
  for (const d of listDevices()) {
    const device = loadDevice(d);
    const policy = await loadPolicyFile(defaultPolicyPath(device));
    policies.set(d, policy);
    for (const seed of SEEDS) for (const s of listScenarios()) for (const controller of CONTROLLERS) jobs.push({ device, policy, scenario: loadScenario(s), controller, seed });
  }
  result = runCompare(jobs);
  const summed = summedVsBestStatic(result.cells)!;
  const frugal = result.cells.filter((c) => (c.energyPerScoreVsBestStatic ?? Infinity) <= 1).length;
  console.log(`${formatCellTable(result.runs.filter((r) => r.seed === 1))}\n` +
    `seeds 1–20: ${result.cells.filter((c) => c.holds).length}/${result.cells.length} cells hold; summed ${summed.toFixed(3)}× best-static; ` +
    `energy per unit of score ≤ best-static's on ${frugal}/${result.cells.length}`);
}, 900_000);

describe('edgegov on every shipped device × scenario × seeds 1–20', () => {
  it('covers 5 devices × 9 scenarios × 20 seeds × 5 controllers', () => {
    expect(result.runs).toHaveLength(listDevices().length * listScenarios().length * SEEDS.length * CONTROLLERS.length);
    expect(result.cells).toHaveLength(listDevices().length * listScenarios().length * SEEDS.length);
  });
  it('never spends a second at or above a critical limit, never gets the model killed', () => {
    const bad = result.runs.filter((r) => r.controller === 'edgegov' && (criticalSeconds(r) > 0 || r.oomEvents > 0))
      .map((r) => `${r.device} · ${r.scenario} · ${r.seed}: ${JSON.stringify(r.secondsAboveLimit)}, ${r.oomEvents} OOM`);
    expect(bad).toEqual([]);
  });
  it('holds the decode floor whenever it generates locally (outside the listed cells, which must still fail)', () => {
    const slow = result.runs.filter((r) => r.controller === 'edgegov' && r.belowFloorS > 0).map((r) => key(r));
    expect(slow.filter((k) => !KNOWN_FLOOR.has(k)), 'new cells below the floor').toEqual([]);
    expect([...KNOWN_FLOOR].filter((k) => !slow.includes(k)), 'listed cells now hold the floor: remove them').toEqual([]);
  });
  it(`scores ≥ ${BEST_STATIC_CELL_RATIO}× best-static and ≥ stepwise and pid on every cell (outside the listed cells, which must still fall short)`, () => {
    const short = result.cells.filter((c) => (c.vsBestStatic ?? 0) < BEST_STATIC_CELL_RATIO || (c.vsKernel ?? 0) < 1).map(key);
    expect(short.filter((k) => !KNOWN_SHORT.has(k)), 'new cells short of best-static or stepwise/pid').toEqual([]);
    expect([...KNOWN_SHORT].filter((k) => !short.includes(k)), 'listed cells now hold: remove them').toEqual([]);
  });
  it('scores ≥ 1.10× best-static summed over all cells', () => {
    expect(summedVsBestStatic(result.cells)!).toBeGreaterThanOrEqual(1.1);
  });
  it('spends at most best-static\'s energy per unit of score on at least 80 % of cells', () => {
    const frugal = result.cells.filter((c) => (c.energyPerScoreVsBestStatic ?? Infinity) <= 1).length;
    expect(frugal / result.cells.length).toBeGreaterThanOrEqual(0.8);
  });
  it('never sends a private request to the cloud, in any run of any controller', () => {
    expect(result.runs.filter((r) => r.requests.privateToCloud > 0).map((r) => `${key(r)} · ${r.controller}`)).toEqual([]);
  });
  it(`changes the engine's knobs at most ${MAX_KNOB_CHANGES_PER_MIN} times per minute (averaged) in every cell`, () => {
    const bad = result.runs.filter((r) => r.controller === 'edgegov' && r.knobChanges / (r.durationS / 60) > MAX_KNOB_CHANGES_PER_MIN)
      .map((r) => `${key(r)}: ${r.knobChanges} in ${r.durationS / 60} min`);
    expect(bad).toEqual([]);
  });
  it(`publishes at most ${MAX_DECISION_CHANGES_PER_MIN} decision changes per minute (averaged) in every cell at its own seed`, () => {
    const bad: string[] = [];
    for (const d of listDevices()) {
      for (const sc of listScenarios()) {
        let changes = -1; // the first decision is not a change
        const r = runSimulation({ device: loadDevice(d), scenario: loadScenario(sc), policy: policies.get(d)!, controller: 'edgegov', onDecision: () => { changes++; } });
        if (changes / (r.durationS / 60) > MAX_DECISION_CHANGES_PER_MIN) bad.push(`${d}·${sc}: ${changes} in ${r.durationS / 60} min`);
      }
    }
    expect(bad).toEqual([]);
  }, 120_000);
});

describe('the baselines are not strawmen', () => {
  it('the naive static gets into trouble somewhere (memory), and best-static never does where a fixed tier can avoid it', () => {
    const trouble = result.runs.filter((r) => r.controller === 'static' && (criticalSeconds(r) > 0 || r.oomEvents > 0));
    expect(trouble.length).toBeGreaterThan(0);
    // best-static picks among fixed tiers that keep the constraints whenever one does.
    const best = result.runs.filter((r) => r.controller === 'best-static');
    const clean = best.filter((r) => criticalSeconds(r) === 0 && r.oomEvents === 0 && r.belowFloorS === 0 && !r.deviceDied).length;
    expect(clean / best.length).toBeGreaterThan(0.9);
  });
  it('best-static is not always the richest tier: an integrator who tests picks another on some cells', () => {
    const tiers = new Set(result.runs.filter((r) => r.controller === 'best-static').map((r) => r.bestStaticTier));
    expect(tiers.size).toBeGreaterThan(2);
  });
});
