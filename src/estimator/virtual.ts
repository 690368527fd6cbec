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
import { POWER_EVIDENCE_W, ZONE_EVIDENCE_C, type FlatWatch } from './stuck.js';

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
  /**
   * zone key → flat [zoneChannel, virtualIdx, termIdx, virtualIdx, termIdx, …]; zoneChannel is the
   * key's channel in the stuck watch (−1 when it matches nothing, and then nothing follows).
   */
  readonly keyMatches: Map<string, Int32Array>;
  // Per-sample scratch, reused (the estimator is single-threaded and owned by one governor).
  readonly acc: Float64Array;
  readonly count: Int32Array;
  readonly termValue: Float64Array;
  /** Per virtual sensor: 1 when this sample's value came from its zones (not a direct reading). */
  readonly fromZones: Uint8Array;
  /** The stuck watch zones join (set by the estimator), and the discharge-power channel in it (−1 = none). */
  watch?: FlatWatch;
  powerCh: number;
  /** Zone channels in the watch, with the virtual sensors each feeds (bit v). */
  zoneChannels: number[];
  zoneMasks: number[];
  /** This sample's matched zone readings: position in `posMatches`, value (grown when a sample has more zones). */
  seenPos: Int32Array;
  seenRaw: Float64Array;
  /** The zone key seen at each position of the last sample's zone keys, and its matches. */
  posKey: string[];
  posMatches: Int32Array[];
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
    fromZones: new Uint8Array(specs.length),
    powerCh: -1,
    zoneChannels: [],
    zoneMasks: [],
    seenPos: new Int32Array(16),
    seenRaw: new Float64Array(16),
    posKey: [],
    posMatches: [],
  };
}

function resolveKey(cv: CompiledVirtuals, key: string): Int32Array {
  const type = zoneTypeOf(key);
  const pairs: number[] = [-1];
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
  if (pairs.length > 1 && cv.watch) pairs[0] = joinWatch(cv, cv.watch, key, pairs);
  const resolved = Int32Array.from(pairs);
  cv.keyMatches.set(key, resolved);
  return resolved;
}

/**
 * A newly seen zone joins the stuck watch, coupled both ways to every zone that feeds one of the
 * same virtual sensors (the same die or board: one cannot move by ZONE_EVIDENCE_C while the other
 * stays flat), and to discharge power when it feeds `soc_c` (power heats the die within seconds).
 */
function joinWatch(cv: CompiledVirtuals, watch: FlatWatch, key: string, pairs: readonly number[]): number {
  let mask = 0;
  let die = false;
  for (let m = 1; m < pairs.length; m += 2) {
    mask |= 1 << (pairs[m] & 31);
    if (cv.specs[pairs[m]].name === 'soc_c') die = true;
  }
  const ch = watch.add(key);
  for (let z = 0; z < cv.zoneChannels.length; z++) {
    if ((cv.zoneMasks[z] & mask) === 0) continue;
    watch.couple(ch, cv.zoneChannels[z], ZONE_EVIDENCE_C);
    watch.couple(cv.zoneChannels[z], ch, ZONE_EVIDENCE_C);
  }
  if (die && cv.powerCh >= 0) watch.couple(ch, cv.powerCh, POWER_EVIDENCE_W);
  cv.zoneChannels.push(ch);
  cv.zoneMasks.push(mask);
  watch.rebuild();
  return ch;
}

/** Adds one matched zone reading to the virtual sensors it feeds. */
function accumulate(cv: CompiledVirtuals, matches: Int32Array, raw: number): void {
  const { acc, count, termValue } = cv;
  for (let m = 1; m < matches.length; m += 2) {
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

/**
 * Writes each virtual sensor's reading for this sample into `out[signalIdx]` (NaN = no reading).
 */
export function computeVirtuals(
  cv: CompiledVirtuals,
  sample: Readonly<Record<string, number | undefined>>,
  out: Float64Array,
  t = 0,
): void {
  const nv = cv.specs.length;
  if (nv === 0) return;
  const { acc, count, termValue } = cv;
  const watch = cv.watch;
  count.fill(0);
  termValue.fill(NaN);
  // Pass 1: the matched zones present in this sample, combined; each reading goes to the stuck watch.
  let seen = 0;
  let zoneKeys = 0;
  const posKey = cv.posKey;
  for (const key in sample) {
    // Only `zone.` keys can match; skip the rest without a Map lookup.
    if (key.charCodeAt(0) !== 122 /* z */ || !key.startsWith('zone.')) continue;
    // Samples of one source list their zones in the same order: the key at this position is
    // nearly always the one seen there last time, and comparing it is cheaper than hashing.
    const pos = zoneKeys++;
    const raw = sample[key];
    if (raw === undefined || !Number.isFinite(raw)) continue;
    let matches: Int32Array;
    if (pos < posKey.length && posKey[pos] === key) matches = cv.posMatches[pos];
    else {
      matches = cv.keyMatches.get(key) ?? resolveKey(cv, key);
      posKey[pos] = key;
      cv.posMatches[pos] = matches;
    }
    if (matches.length < 3) continue;
    if (seen === cv.seenRaw.length) {
      const grown = new Float64Array(2 * seen);
      grown.set(cv.seenRaw);
      cv.seenRaw = grown;
      const grownPos = new Int32Array(2 * seen);
      grownPos.set(cv.seenPos);
      cv.seenPos = grownPos;
    }
    cv.seenPos[seen] = pos;
    cv.seenRaw[seen] = raw;
    seen++;
    if (watch && matches[0] >= 0) watch.observe(matches[0], t, raw);
    accumulate(cv, matches, raw);
  }
  if (watch && cv.zoneChannels.length > 0) {
    watch.judge(t, cv.zoneChannels[0], watch.n);
    // Pass 2, only when a zone is judged stuck: combine again without it (the other zones of
    // the sensor substitute). Verdicts are given after every zone has been seen, hence the redo.
    let anyStuck = false;
    if (watch.stuckCount > 0) {
      for (let k = 0; k < seen && !anyStuck; k++) {
        const ch = cv.posMatches[cv.seenPos[k]][0];
        if (ch >= 0 && watch.stuck[ch] === 1) anyStuck = true;
      }
    }
    if (anyStuck) {
      count.fill(0);
      termValue.fill(NaN);
      for (let k = 0; k < seen; k++) {
        const matches = cv.posMatches[cv.seenPos[k]];
        if (matches[0] >= 0 && watch.stuck[matches[0]] === 1) continue;
        accumulate(cv, matches, cv.seenRaw[k]);
      }
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
    cv.fromZones[v] = count[v] > 0 ? 1 : 0;
    if (value !== value && count[v] === 0) {
      // No zone of this sensor in the sample: fall back to a direct reading under its name.
      const direct = sample[spec.name];
      if (direct !== undefined && Number.isFinite(direct)) value = direct;
    }
    out[spec.signalIdx] = value;
  }
}
