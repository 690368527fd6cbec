/**
 * Calibration of the phone's 3-node RC model against the real Galaxy S25 LLM trace
 * (traces/real/galaxy-s25_*_runs1-3.flat.csv; research/05 §1.1): GPU load and clock are the
 * input, the GPU hotspot (max of `gpuss-*`) and the board thermistor (`sys-therm-0`) the output.
 * Fits R_JB, C_J, C_B, R_BS and the GPU power model by Nelder–Mead on the RMSE; skin
 * (C_S, R_SA) and ambient stay at the literature values — the trace is too short to see them.
 */
import type { DeviceModel } from './device.js';
import { createThermalNetwork } from './thermal.js';

export interface S25Row {
  tS: number;
  run: number;
  gpuLoad: number;
  gpuMhz: number;
  hotspotC: number;
  boardC: number;
  batteryC: number;
}

/** Parse the flat CSV (header names from traces/real/README.md §1). */
export function parseS25Csv(text: string): S25Row[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() && !l.startsWith('#'));
  const head = lines[0].split(',');
  const col = (n: string) => { const i = head.indexOf(n); if (i < 0) throw new Error(`S25 trace: no column ${n}`); return i; };
  const gpuss = head.map((h, i) => (h.startsWith('T_gpuss-') ? i : -1)).filter((i) => i >= 0);
  const [iT, iRun, iLoad, iMhz, iBoard, iBat] = [col('t_s'), col('run'), col('gpu_load_pct'), col('gpu_freq_mhz'), col('T_sys-therm-0_c'), col('T_battery_c')];
  return lines.slice(1).map((l) => {
    const c = l.split(',');
    return {
      tS: Number(c[iT]), run: Number(c[iRun]), gpuLoad: Number(c[iLoad]) / 100, gpuMhz: Number(c[iMhz]),
      hotspotC: Math.max(...gpuss.map((i) => Number(c[i]))), boardC: Number(c[iBoard]), batteryC: Number(c[iBat]),
    };
  });
}

export interface PhoneFit {
  rJB: number; cJ: number; cB: number; rBS: number;
  /** GPU power at full clock and load, W, and its clock exponent. */
  gpuDynW: number; alpha: number;
  /** Idle SoC power and the board's (DRAM/PMIC) power while generating. */
  socIdleW: number; boardActiveW: number;
}

/** Literature starting point (research/05 §5a). */
export const LITERATURE: PhoneFit = { rJB: 5.0, cJ: 1.5, cB: 30, rBS: 1.5, gpuDynW: 5, alpha: 2, socIdleW: 0.5, boardActiveW: 1.0 };
const FIXED = { cS: 170, rSA: 4.0, ambientC: 25, skinW: 0.4, boardIdleW: 0.5 };
const F_MAX_MHZ = 1200;

export interface FitResult {
  params: PhoneFit;
  rmseHotspotC: number;
  rmseBoardC: number;
  rmseC: number;
  samples: number;
}

/** Simulate the trace with `p`; returns predictions aligned with rows. */
export function predictS25(rows: S25Row[], p: PhoneFit): { hotspotC: number[]; boardC: number[] } {
  const device = { thermal: { nodes: [
    { name: 'soc', capacitanceJPerC: p.cJ }, { name: 'board', capacitanceJPerC: p.cB }, { name: 'skin', capacitanceJPerC: FIXED.cS },
  ], links: [
    { from: 'soc', to: 'board', resistanceCPerW: p.rJB }, { from: 'board', to: 'skin', resistanceCPerW: p.rBS },
    { from: 'skin', to: 'ambient', resistanceCPerW: FIXED.rSA },
  ] } } as unknown as DeviceModel;
  const net = createThermalNetwork(device, FIXED.ambientC);
  net.temps[0] = rows[0].hotspotC; net.temps[1] = rows[0].boardC; net.temps[2] = rows[0].batteryC;
  const heat = new Float64Array(3);
  const hot: number[] = [], board: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    hot.push(net.temps[0]); board.push(net.temps[1]);
    if (i + 1 === rows.length) break;
    const r = rows[i];
    const next = rows[i + 1];
    // Between runs (≈95 s gaps) the GPU idles. Within a run, a row's load and clock describe the
    // interval that ENDS at it (the sampler reads state the GPU already had), so use the next row's.
    const active = next.run === r.run;
    const u = active ? next.gpuLoad : 0;
    heat[0] = p.socIdleW + p.gpuDynW * u * Math.pow(next.gpuMhz / F_MAX_MHZ, p.alpha);
    heat[1] = FIXED.boardIdleW + p.boardActiveW * u;
    heat[2] = FIXED.skinW;
    net.step(next.tS - r.tS, heat, FIXED.ambientC);
  }
  return { hotspotC: hot, boardC: board };
}

function rmse(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s / a.length);
}

export function scoreFit(rows: S25Row[], p: PhoneFit): FitResult {
  const pred = predictS25(rows, p);
  const h = rmse(pred.hotspotC, rows.map((r) => r.hotspotC));
  const b = rmse(pred.boardC, rows.map((r) => r.boardC));
  return { params: p, rmseHotspotC: h, rmseBoardC: b, rmseC: Math.sqrt((h * h + b * b) / 2), samples: rows.length };
}

const KEYS = Object.keys(LITERATURE) as (keyof PhoneFit)[];
/** Plausible ranges (research/05 §5a ranges, widened) — the fit is clamped inside them. */
const BOUNDS: Record<keyof PhoneFit, [number, number]> = {
  rJB: [1, 10], cJ: [0.3, 8], cB: [5, 120], rBS: [0.5, 5], gpuDynW: [1, 15], alpha: [0.5, 3.5], socIdleW: [0, 3], boardActiveW: [0, 4],
};

/** Nelder–Mead in log-space over the bounded parameters. Deterministic. */
export function fitS25(rows: S25Row[], iterations = 1500): FitResult {
  const toP = (x: number[]): PhoneFit => {
    const p = {} as PhoneFit;
    KEYS.forEach((k, i) => { const [lo, hi] = BOUNDS[k]; p[k] = Math.min(hi, Math.max(lo, Math.exp(x[i]))); });
    return p;
  };
  const f = (x: number[]) => scoreFit(rows, toP(x)).rmseC;
  const x0 = KEYS.map((k) => Math.log(Math.max(1e-3, LITERATURE[k] || 0.1)));
  const n = x0.length;
  let simplex = [x0, ...x0.map((_, i) => x0.map((v, j) => (i === j ? v + 0.3 : v)))].map((x) => ({ x, f: f(x) }));
  for (let it = 0; it < iterations; it++) {
    simplex.sort((a, b) => a.f - b.f);
    const best = simplex[0], worst = simplex[n], second = simplex[n - 1];
    const c = x0.map((_, j) => simplex.slice(0, n).reduce((s, p) => s + p.x[j], 0) / n);
    const at = (t: number) => c.map((v, j) => v + t * (worst.x[j] - v));
    const r = { x: at(-1), f: 0 }; r.f = f(r.x);
    if (r.f < best.f) {
      const e = { x: at(-2), f: 0 }; e.f = f(e.x);
      simplex[n] = e.f < r.f ? e : r;
    } else if (r.f < second.f) {
      simplex[n] = r;
    } else {
      const k = { x: at(r.f < worst.f ? -0.5 : 0.5), f: 0 }; k.f = f(k.x);
      if (k.f < Math.min(worst.f, r.f)) simplex[n] = k;
      else simplex = simplex.map((p, i) => (i === 0 ? p : { x: p.x.map((v, j) => best.x[j] + 0.5 * (v - best.x[j])), f: 0 })).map((p, i) => (i === 0 ? p : { ...p, f: f(p.x) }));
    }
    if (Math.abs(simplex[n].f - simplex[0].f) < 1e-6 && it > 200) break;
  }
  simplex.sort((a, b) => a.f - b.f);
  return scoreFit(rows, toP(simplex[0].x));
}
