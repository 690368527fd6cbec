/** Seeded pseudo-random numbers (mulberry32): the simulator must be reproducible from a seed. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  normal(): number;
  exponential(mean: number): number;
  /** Log-normal from its median and 90th percentile (research/03 §6.6 gives lengths that way). */
  logNormal(median: number, p90: number): number;
  uniform(min: number, max: number): number;
}

/** Derive independent streams from one seed so that, e.g., sensor noise never shifts the request sequence. */
export function createRng(seed: number, stream = 0): Rng {
  let a = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b)) >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  // Warm up so nearby seeds diverge at once.
  for (let i = 0; i < 4; i++) next();
  let spare: number | undefined;
  const normal = () => {
    if (spare !== undefined) { const s = spare; spare = undefined; return s; }
    let u = 0;
    while (u === 0) u = next();
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  return {
    next,
    normal,
    exponential: (mean) => -mean * Math.log(1 - next()),
    logNormal: (median, p90) => {
      const mu = Math.log(median);
      const sigma = Math.max(0, (Math.log(p90) - mu) / 1.2816);
      return Math.exp(mu + sigma * normal());
    },
    uniform: (min, max) => min + (max - min) * next(),
  };
}
