/**
 * Seeded randomness for synthetic weights. Every tensor gets its own stream derived from
 * (seed, tensor name), so a tensor's values do not depend on which other tensors or quants
 * were written — the F32 and Q4_0 files of one seed hold the same underlying weights.
 */

/** FNV-1a over the UTF-8 bytes, mixed with the seed: a 32-bit stream id per tensor. */
export function streamSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (const b of Buffer.from(name, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** xoshiro128** — small, fast, and exactly reproducible with 32-bit integer maths. */
export class Xoshiro128 {
  private s0: number; private s1: number; private s2: number; private s3: number;
  constructor(seed: number) {
    // SplitMix32 fills the state so nearby seeds give unrelated streams.
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next(); this.s1 = next(); this.s2 = next(); this.s3 = next();
  }

  nextU32(): number {
    const r = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0; this.s3 ^= this.s1; this.s1 ^= this.s2; this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0; this.s1 >>>= 0; this.s2 >>>= 0; this.s3 >>>= 0;
    return r;
  }

  /** Uniform in (0, 1], never 0 so log() is safe. */
  nextUnit(): number {
    return (this.nextU32() + 1) / 4294967296;
  }

  /** Fills `out` with N(0, std²) values (Box–Muller, both outputs used). */
  fillNormal(out: Float32Array, std: number): void {
    for (let i = 0; i < out.length; i += 2) {
      const r = Math.sqrt(-2 * Math.log(this.nextUnit())) * std;
      const a = 2 * Math.PI * this.nextUnit();
      out[i] = r * Math.cos(a);
      if (i + 1 < out.length) out[i + 1] = r * Math.sin(a);
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
