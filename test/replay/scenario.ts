/** Deterministic synthetic traces for replay tests: a phone heating under load, with the usual mess. */
import type { Sample } from '../../src/core/signals.js';

/** Small seeded PRNG (mulberry32) so a scenario is the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ScenarioOptions {
  seed?: number;
  samples?: number;
  periodMs?: number;
  /** Peak SoC temperature of the heat-up (°C). */
  peakC?: number;
  /** Drop skin_c for a stretch in the middle. */
  dropout?: boolean;
}

/**
 * SoC rises 40 → peak → back over the trace, skin follows slowly, memory dips once,
 * battery drains; zone.* carry the raw die temperatures the policy's soc_c is built from.
 */
export function heatingScenario(o: ScenarioOptions = {}): Sample[] {
  const rnd = prng(o.seed ?? 1);
  const n = o.samples ?? 1200;
  const period = o.periodMs ?? 500;
  const peak = o.peakC ?? 100;
  const out: Sample[] = [];
  for (let i = 0; i < n; i++) {
    const x = i / (n - 1);
    const hump = Math.sin(Math.PI * x);
    const soc = 40 + (peak - 40) * hump + (rnd() - 0.5);
    const skin = 32 + 14 * hump * hump + (rnd() - 0.5) * 0.2;
    const s: Record<string, number | undefined> = {
      t_ms: i * period,
      'zone.cpu-0': Math.round(soc * 10) / 10,
      'zone.gpu-0': Math.round((soc - 2) * 10) / 10,
      skin_c: o.dropout && i > n * 0.3 && i < n * 0.4 ? undefined : Math.round(skin * 100) / 100,
      battery_c: 30 + 8 * hump,
      battery_w: 3 + 3 * hump,
      battery_pct: 90 - 40 * x,
      charging: 0,
      mem_avail_mb: i > n * 0.6 && i < n * 0.65 ? 900 : 4000,
      psi_mem_some_avg10: 0,
    };
    out.push(s as Sample);
  }
  return out;
}
