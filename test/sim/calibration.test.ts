/**
 * Calibration against the real Galaxy S25 LLM trace (read from ../shared, never copied: no
 * licence upstream). Skips when the shared folder is absent.
 */
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { repoRoot } from '../helpers/cli.js';
import { parseS25Csv, fitS25, scoreFit, LITERATURE } from '../../src/sim/calibrate.js';
import { loadDevice } from '../../src/sim/device.js';

const trace = resolve(repoRoot, '..', 'shared', 'traces', 'real', 'galaxy-s25_sd8elite_llm-opencl_stress-thermal_runs1-3.flat.csv');
const have = existsSync(trace);

describe.skipIf(!have)('phone RC model fitted to the S25 trace', () => {
  const rows = have ? parseS25Csv(readFileSync(trace, 'utf8')) : [];
  const fit = have ? fitS25(rows) : undefined;

  it('reads all three runs', () => {
    expect(rows.length).toBe(78);
    expect(new Set(rows.map((r) => r.run))).toEqual(new Set([1, 2, 3]));
  });
  it('fits hotspot and board with RMSE ≤ 3 °C (the literature start is far worse)', () => {
    expect(fit!.rmseC).toBeLessThanOrEqual(3);
    expect(fit!.rmseBoardC).toBeLessThanOrEqual(3);
    expect(scoreFit(rows, LITERATURE).rmseC).toBeGreaterThan(fit!.rmseC * 2);
  });
  it('the shipped flagship model carries the fitted thermal values (within 10 %)', () => {
    const d = loadDevice('flagship-phone');
    const c = (n: string) => d.thermal.nodes.find((x) => x.name === n)!.capacitanceJPerC;
    const r = (from: string) => d.thermal.links.find((x) => x.from === from)!.resistanceCPerW;
    const near = (a: number, b: number) => expect(Math.abs(a - b) / b).toBeLessThan(0.1);
    near(c('soc'), fit!.params.cJ);
    near(c('board'), fit!.params.cB);
    near(r('soc'), fit!.params.rJB);
    near(r('board'), fit!.params.rBS);
  });
});
