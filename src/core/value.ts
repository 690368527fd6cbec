/**
 * The governor's belief about its tiers' speed on this device, kept honest by what the engine
 * reports (docs/core.md §6): the speed model (speed.ts) ranks the tiers; the observed decode
 * (`tok_s`) and prompt-processing (`prefill_tok_s`) speeds scale it, so a throttled clock, a
 * wrong bandwidth figure or an unseen board are corrected after one answer. Also the context
 * the work needs (`req_ctx_tokens`). Pure and allocation-free per sample: the expectation
 * object is rebuilt only when it changes.
 */
import type { Sample } from './signals.js';
import type { TierExpectation } from './decision.js';
import { decodeTokSAt, type TierSpeeds } from './speed.js';

/** Weight of a new observation in the scale (one answer's average speed is already an average). */
const OBSERVATION_WEIGHT = 0.5;
/** Scales outside this band are not the same device: a unit slip or a reporting bug. */
const MIN_SCALE = 0.05;
const MAX_SCALE = 20;

/**
 * Engine reports within this long of a tier change are not attributed to the new tier: an answer
 * in flight finishes at the old knobs (the engine's safe point), and on a slow board an answer
 * takes up to a minute (research/03 §6).
 */
export const ATTRIBUTION_GUARD_MS = 60_000;

const clampScale = (x: number) => (x < MIN_SCALE ? MIN_SCALE : x > MAX_SCALE ? MAX_SCALE : x);

export class SpeedBelief {
  /** Observed ÷ modelled decode speed (unpaced), and the same for prefill. */
  decodeScale = 1;
  prefillScale = 1;
  /** Whether each has been observed at all (an unobserved prefill follows the decode scale). */
  decodeSeen = false;
  prefillSeen = false;
  /** The last context need reported (tokens; NaN = none yet). */
  needTokens = NaN;
  private lastTokS = NaN;
  private lastPrefillTokS = NaN;
  private expect: TierExpectation | undefined;
  private expectTier = -1;
  private expectDecode = NaN;
  private expectPrefill = NaN;

  constructor(private readonly speeds: TierSpeeds) {}

  copyFrom(o: SpeedBelief): void {
    this.decodeScale = o.decodeScale; this.prefillScale = o.prefillScale;
    this.decodeSeen = o.decodeSeen; this.prefillSeen = o.prefillSeen;
    this.needTokens = o.needTokens; this.lastTokS = o.lastTokS; this.lastPrefillTokS = o.lastPrefillTokS;
  }

  /**
   * Takes this sample's engine reports. `tierIdx` is the tier decided, held for `heldMs`.
   */
  observe(sample: Sample, tierIdx: number, heldMs: number): void {
    const need = sample.req_ctx_tokens;
    if (need !== undefined && need >= 0 && need < Infinity) this.needTokens = need;
    // Just after a change the engine may still be finishing an answer at the old knobs (it
    // applies at its next safe point): its speed says nothing about the new tier.
    if (tierIdx < 0 || heldMs < ATTRIBUTION_GUARD_MS) return;
    const sp = this.speeds;
    const tok = sample.tok_s;
    if (tok !== undefined && tok > 0 && tok < Infinity && tok !== this.lastTokS) {
      this.lastTokS = tok;
      const observedS = 1 / tok - sp.pacingS[tierIdx];
      if (observedS > 0) {
        const modelledS = sp.decodeS0[tierIdx] + sp.kvSPerCtxToken * this.contextFor(tierIdx);
        const scale = clampScale(modelledS / observedS);
        this.decodeScale = this.decodeSeen ? this.decodeScale + OBSERVATION_WEIGHT * (scale - this.decodeScale) : scale;
        this.decodeSeen = true;
      }
    }
    const pre = sample.prefill_tok_s;
    if (pre !== undefined && pre > 0 && pre < Infinity && pre !== this.lastPrefillTokS) {
      this.lastPrefillTokS = pre;
      const scale = clampScale(pre / sp.prefillTokS[tierIdx]);
      this.prefillScale = this.prefillSeen ? this.prefillScale + OBSERVATION_WEIGHT * (scale - this.prefillScale) : scale;
      this.prefillSeen = true;
    }
  }

  /** The context the work at tier `i` runs at: what it needs, else a quarter of the tier's own (tokens). */
  contextFor(i: number, contextLength = 0): number {
    const need = this.needTokens;
    return need === need ? need : contextLength / 4;
  }

  /** Decode tok/s (paced) expected at tier `i` with context length `contextLength`. */
  decodeTokS(i: number, contextLength: number): number {
    return decodeTokSAt(this.speeds, i, Math.min(contextLength, this.contextFor(i, contextLength)), this.decodeScale);
  }

  prefillTokS(i: number): number {
    return this.speeds.prefillTokS[i] * (this.prefillSeen ? this.prefillScale : this.decodeScale);
  }

  /** The expectation a decision at tier `i` carries (the same object while it does not change). */
  expectationFor(i: number, contextLength: number): TierExpectation {
    const d = this.decodeTokS(i, contextLength);
    const p = this.prefillTokS(i);
    if (this.expect === undefined || i !== this.expectTier || d !== this.expectDecode || p !== this.expectPrefill) {
      this.expectTier = i; this.expectDecode = d; this.expectPrefill = p;
      this.expect = { decodeTokS: Math.round(d * 100) / 100, prefillTokS: Math.round(p * 100) / 100 };
    }
    return this.expect;
  }
}

/**
 * Expected-value differences under this share are not something a user notices (a 1 % change
 * in perplexity is below what side-by-side ratings resolve, research/03 §1.2: q8_0 and q6_k
 * differ by 0.3 %) [assumption]. Tiers that close to the best are ties, and ties go to the
 * leaner tier: less energy per answer, more thermal headroom for the answers to come.
 */
export const VALUE_TIE = 0.01;

/** One tier's expected answer for the work at hand (docs/core.md §6). */
export interface TierValue {
  quality: number;
  /** Share of the context the work needs that the tier keeps (its context, a quarter left for the answer). */
  fidelity: number;
  firstTokenS: number;
  decodeTokS: number;
  qoe: number;
  value: number;
}

/**
 * A tier expected to decode slower than the floor × this is not chosen for value: the expectation
 * already carries the observed (throttled) speed; the margin covers a context that grows within
 * the answer [assumption].
 */
const FLOOR_MARGIN = 1.05;

/** Tokens a typical request prefills: a chat turn's new prompt (research/03 §6.6: median ~70, p90 ~400). */
const DEFAULT_PREFILL_TOKENS = 256;

/**
 * Ranks the tiers by expected value for the work at hand: quality × context fidelity × the
 * QoE of a typical answer (its first token after the prefill of what the work needs, its pace
 * against the reader's). Recomputed only when the work or the speed belief changes.
 */
export class ValueModel {
  private readonly values: TierValue[];
  private seenNeed = -1;
  private seenDecode = NaN;
  private seenPrefill = NaN;
  private bestFrom = -1;
  private bestIdx = -1;

  constructor(
    private readonly tiers: readonly { quant: string; contextLength: number }[],
    private readonly qualityOf: (quant: string) => number,
    private readonly belief: SpeedBelief,
    private readonly target: { firstTokenS: number; readTokS: number; outputTokens: number; floorTokS: number },
    private readonly qoe: (firstTokenS: number, tokS: number, tokens: number, target: { firstTokenS: number; readTokS: number }) => number,
  ) {
    this.values = tiers.map(() => ({ quality: 1, fidelity: 1, firstTokenS: 0, decodeTokS: 0, qoe: 0, value: 0 }));
  }

  private refresh(): void {
    const b = this.belief;
    const need = b.needTokens;
    const pre = b.prefillTokS(0);
    if (Object.is(need, this.seenNeed) && b.decodeScale === this.seenDecode && pre === this.seenPrefill) return;
    this.seenNeed = need; this.seenDecode = b.decodeScale; this.seenPrefill = pre;
    this.bestFrom = -1;
    // A request prefills its new tokens; the conversation before it is in the KV cache. Ranking
    // tiers by prefilling the whole need would make the shortest context look fastest: a
    // truncated answer "wins" by reading less of what it was asked about.
    const prefill = DEFAULT_PREFILL_TOKENS;
    this.tiers.forEach((t, i) => {
      const v = this.values[i];
      const room = t.contextLength * 0.75;
      v.quality = this.qualityOf(t.quant);
      v.fidelity = need === need && need > room ? room / need : 1;
      v.decodeTokS = b.decodeTokS(i, t.contextLength);
      v.firstTokenS = prefill / b.prefillTokS(i) + 1 / v.decodeTokS;
      v.qoe = this.qoe(v.firstTokenS, v.decodeTokS, this.target.outputTokens, this.target);
      // The decode floor is a constraint, not a trade-off: a tier expected to decode near it is out.
      v.value = v.decodeTokS < this.target.floorTokS * FLOOR_MARGIN ? 0 : v.quality * v.fidelity * v.qoe;
    });
  }

  valueOf(i: number): Readonly<TierValue> {
    this.refresh();
    return this.values[i];
  }

  /**
   * The tier to run with headroom down to `from` (the richest anything allows): the leanest
   * tier whose expected value is within VALUE_TIE of the best one at or below `from`.
   */
  best(from: number): number {
    this.refresh();
    if (from === this.bestFrom) return this.bestIdx;
    let max = 0;
    for (let i = from; i < this.values.length; i++) if (this.values[i].value > max) max = this.values[i].value;
    let pick = from;
    if (max > 0) {
      for (let i = from; i < this.values.length; i++) if (this.values[i].value >= max * (1 - VALUE_TIE)) pick = i;
    } else {
      // Nothing of value anywhere (every tier expected under the floor): the tier expected to
      // decode fastest, the likeliest to hold the floor while the floor rule sends work away.
      // (Leanest on ties; as `from` grows this never gets richer, so decisions stay monotone.)
      let fastest = -1;
      for (let i = from; i < this.values.length; i++) if (this.values[i].decodeTokS >= fastest) { fastest = this.values[i].decodeTokS; pick = i; }
    }
    this.bestFrom = from;
    this.bestIdx = pick;
    return pick;
  }
}
