/**
 * Virtual sensors: a SensorSpec with a `source` is computed from raw `zone.<type>` readings
 * (max / min / avg over matched zones, or Pixel-style Σ weight·zone + offset).
 *
 * Pattern → key matching is resolved once per zone key per policy and kept in `keyMatches`,
 * so the per-sample cost is one Map lookup per zone key present in the sample.
 *
 * Missing ≠ zero: a max/min/avg with no matched zone present, or a weighted sum with any
 * term missing, has no reading. When no matched zone is present at all, a reading under
 * the sensor's own name (e.g. a converted trace carrying `soc_c` directly) is used instead.
 */
import type { SensorSpec } from '../policy/types.js';
import { compileGlob, zoneTypeOf } from './glob.js';

const KIND_MAX = 0;
const KIND_MIN = 1;
const KIND_AVG = 2;
const KIND_WEIGHTED = 3;

interface VirtualSpec {
  name: string;
  /** Index of this sensor in the estimator's signal table. */
  signalIdx: number;
  kind: number;
  patterns: RegExp[];
  weights: Float64Array;
  offset: number;
  /** First slot of this sensor's terms in `termValue`. */
  termBase: number;
}

export interface CompiledVirtuals {
  readonly specs: readonly VirtualSpec[];
  /** zone key → flat [virtualIdx, termIdx, virtualIdx, termIdx, …]; empty array = matches nothing. */
  readonly keyMatches: Map<string, Int32Array>;
  // Per-sample scratch, reused (the estimator is single-threaded and owned by one governor).
  readonly acc: Float64Array;
  readonly count: Int32Array;
  readonly termValue: Float64Array;
}

export function compileVirtuals(
  sensors: readonly SensorSpec[],
  signalIndex: ReadonlyMap<string, number>,
): CompiledVirtuals {
  const specs: VirtualSpec[] = [];
  let termBase = 0;
  for (const s of sensors) {
    const src = s.source;
    if (!src) continue;
    const signalIdx = signalIndex.get(s.name);
    if (signalIdx === undefined) continue;
    if (src.kind === 'weighted') {
      specs.push({
        name: s.name, signalIdx, kind: KIND_WEIGHTED,
        patterns: src.terms.map((t) => compileGlob(t.zone)),
        weights: Float64Array.from(src.terms.map((t) => t.weight)),
        offset: src.offset, termBase,
      });
      termBase += src.terms.length;
    } else {
      specs.push({
        name: s.name, signalIdx,
        kind: src.kind === 'max' ? KIND_MAX : src.kind === 'min' ? KIND_MIN : KIND_AVG,
        patterns: src.zones.map((z) => compileGlob(z)),
        weights: new Float64Array(0), offset: 0, termBase,
      });
    }
  }
  return {
    specs,
    keyMatches: new Map(),
    acc: new Float64Array(specs.length),
    count: new Int32Array(specs.length),
    termValue: new Float64Array(termBase),
  };
}

function resolveKey(cv: CompiledVirtuals, key: string): Int32Array {
  const type = zoneTypeOf(key);
  const pairs: number[] = [];
  if (type !== undefined) {
    cv.specs.forEach((spec, v) => {
      for (let p = 0; p < spec.patterns.length; p++) {
        if (!spec.patterns[p].test(type)) continue;
        pairs.push(v, p);
        // A zone counts once in a max/min/avg even when several patterns match it.
        if (spec.kind !== KIND_WEIGHTED) break;
      }
    });
  }
  const resolved = Int32Array.from(pairs);
  cv.keyMatches.set(key, resolved);
  return resolved;
}

/**
 * Writes each virtual sensor's reading for this sample into `out[signalIdx]` (NaN = no reading).
 */
export function computeVirtuals(
  cv: CompiledVirtuals,
  sample: Readonly<Record<string, number | undefined>>,
  out: Float64Array,
): void {
  const nv = cv.specs.length;
  if (nv === 0) return;
  const { acc, count, termValue } = cv;
  count.fill(0);
  termValue.fill(NaN);
  for (const key in sample) {
    // Only `zone.` keys can match; skip the rest without a Map lookup.
    if (key.charCodeAt(0) !== 122 /* z */ || !key.startsWith('zone.')) continue;
    const raw = sample[key];
    if (raw === undefined || !Number.isFinite(raw)) continue;
    const matches = cv.keyMatches.get(key) ?? resolveKey(cv, key);
    for (let m = 0; m < matches.length; m += 2) {
      const v = matches[m];
      const spec = cv.specs[v];
      switch (spec.kind) {
        case KIND_MAX:
          acc[v] = count[v] === 0 || raw > acc[v] ? raw : acc[v];
          break;
        case KIND_MIN:
          acc[v] = count[v] === 0 || raw < acc[v] ? raw : acc[v];
          break;
        case KIND_AVG:
          acc[v] = count[v] === 0 ? raw : acc[v] + raw;
          break;
        default: {
          // A term pattern matching several zones takes the hottest (the conservative choice).
          const slot = spec.termBase + matches[m + 1];
          const prev = termValue[slot];
          termValue[slot] = prev !== prev || raw > prev ? raw : prev;
        }
      }
      count[v]++;
    }
  }
  for (let v = 0; v < nv; v++) {
    const spec = cv.specs[v];
    let value = NaN;
    if (spec.kind === KIND_WEIGHTED) {
      let sum = spec.offset;
      for (let p = 0; p < spec.weights.length; p++) sum += spec.weights[p] * termValue[spec.termBase + p];
      value = sum; // NaN when any term had no reading
    } else if (count[v] > 0) {
      value = spec.kind === KIND_AVG ? acc[v] / count[v] : acc[v];
    }
    if (value !== value && count[v] === 0) {
      // No zone of this sensor in the sample: fall back to a direct reading under its name.
      const direct = sample[spec.name];
      if (direct !== undefined && Number.isFinite(direct)) value = direct;
    }
    out[spec.signalIdx] = value;
  }
}
