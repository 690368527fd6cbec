/**
 * Lumped RC thermal network (research/05 §5): C_i·dT_i/dt = P_i + Σ_j (T_j − T_i)/R_ij, with
 * ambient as a fixed-temperature node. Explicit Euler with sub-steps well under the fastest
 * node's time constant (research/05 §5: dt ≤ 1/20 τ for accuracy; we use ≤ 1/8, ample at 0.1 °C).
 */
import type { DeviceModel } from './device.js';

export interface ThermalNetwork {
  readonly names: readonly string[];
  readonly temps: Float64Array;
  /** Highest temperature each node reached during the last `step`. */
  readonly peak: Float64Array;
  index(name: string): number;
  /** Integrate `dtS` seconds with constant heat inputs (W per node) and ambient. */
  step(dtS: number, heatW: Float64Array, ambientC: number): void;
}

export function createThermalNetwork(device: DeviceModel, initialC: number): ThermalNetwork {
  const names = device.thermal.nodes.map((n) => n.name);
  const idx = new Map(names.map((n, i) => [n, i]));
  const cap = Float64Array.from(device.thermal.nodes.map((n) => n.capacitanceJPerC));
  const links = device.thermal.links.map((l) => ({
    a: idx.get(l.from)!,
    b: l.to === 'ambient' ? -1 : idx.get(l.to)!,
    g: 1 / l.resistanceCPerW,
  }));
  const gSum = new Float64Array(names.length);
  for (const l of links) { gSum[l.a] += l.g; if (l.b >= 0) gSum[l.b] += l.g; }
  let minTau = Infinity;
  for (let i = 0; i < names.length; i++) minTau = Math.min(minTau, cap[i] / gSum[i]);
  const maxH = minTau / 8;
  const temps = new Float64Array(names.length).fill(initialC);
  const peak = new Float64Array(names.length).fill(initialC);
  const flow = new Float64Array(names.length);
  return {
    names,
    temps,
    peak,
    index(name) {
      const i = idx.get(name);
      if (i === undefined) throw new Error(`no thermal node '${name}'`);
      return i;
    },
    step(dtS, heatW, ambientC) {
      peak.set(temps);
      const n = Math.max(1, Math.ceil(dtS / maxH));
      const h = dtS / n;
      for (let s = 0; s < n; s++) {
        for (let i = 0; i < flow.length; i++) flow[i] = heatW[i];
        for (const l of links) {
          const tb = l.b >= 0 ? temps[l.b] : ambientC;
          const q = (temps[l.a] - tb) * l.g;
          flow[l.a] -= q;
          if (l.b >= 0) flow[l.b] += q;
        }
        for (let i = 0; i < flow.length; i++) {
          temps[i] += (h * flow[i]) / cap[i];
          if (temps[i] > peak[i]) peak[i] = temps[i];
        }
      }
    },
  };
}
