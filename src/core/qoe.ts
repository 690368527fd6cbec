/**
 * Quality of experience of one streamed answer, in the sense of Andes (Liu et al., "Andes:
 * Defining and Enhancing Quality-of-Experience in LLM-Based Text Streaming Services",
 * arXiv 2404.16283): the token timeline the user got, measured against the one they expected.
 *
 * All times are seconds on the run's clock; token counts are answer tokens.
 *  - Expected timeline E(t): nothing until `arrivalS + firstTokenS`, then the reader's pace
 *    `readTokS` until the answer's N tokens (research/03 §5: 238 wpm ≈ 5.3 tok/s).
 *  - Delivered timeline A(t): what the engine or the cloud streamed (piecewise linear).
 *  - Read timeline D(t): the reader starts at the first token and reads at most at their pace,
 *    never ahead of what was delivered: D' = readTokS while D < A, else D follows A. Tokens
 *    that arrive faster than they can be read are worth nothing more; tokens that arrive late
 *    are reading time lost for good (a late first token is never made up by a fast stream).
 *  - QoE = ∫ min(D, E) dt / ∫ E dt, from arrival to the later of the two timelines' ends, so
 *    it is 1 for an answer at or ahead of expectation and falls with every second of waiting.
 *    Cut at a horizon (the run's end) the numerator stops there and the denominator still
 *    counts the whole expected answer: the part beyond the horizon earns nothing, for every
 *    controller alike.
 * Pure functions, no allocation beyond the arrays they return.
 */
import type { QoeRules } from '../policy/types.js';

/**
 * The user's expectations when a policy says nothing (docs/policy.md "Quality of experience"):
 * a chat's first token within 1 s (Nielsen's flow-of-thought limit; streaming chat targets
 * <0.5 s ideal, 1–2 s acceptable, research/03 §5), a document's within 5 s ([assumption], inside
 * the 10 s that keeps attention), read at 238 wpm ≈ 5.3 tok/s (research/03 §5).
 */
export const QOE_DEFAULTS: Readonly<QoeRules> = { chatFirstTokenMs: 1000, documentFirstTokenMs: 5000, readTokS: 5.3 };

export interface QoeTarget {
  /** Expected time from the request to its first token, s. */
  firstTokenS: number;
  /** The reader's pace, tok/s. */
  readTokS: number;
}

/**
 * The read timeline D for a delivered timeline given as breakpoints [t0, a0, t1, a1, …]
 * (non-decreasing t and a, linear in between, a0 = 0 at the request's arrival). Returns the
 * breakpoints of D, ending when the reader has read everything delivered.
 */
export function readTimeline(delivered: ArrayLike<number>, readTokS: number): number[] {
  const out: number[] = [];
  const n = delivered.length;
  if (n < 2) return out;
  let td = delivered[0];
  let d = 0;
  out.push(td, d);
  for (let i = 2; i < n; i += 2) {
    const ta0 = delivered[i - 2], a0 = delivered[i - 1], ta1 = delivered[i], a1 = delivered[i + 1];
    const dt = ta1 - ta0;
    if (dt <= 0) continue; // a jump: the reader cannot jump with it, the gap closes at their pace below
    const v = (a1 - a0) / dt;
    // Where the reader stands at ta0 (≤ a0): d. Catching up with A inside the segment takes
    // τ = (a0 − d)/(r − v) when the reader is faster than the stream.
    const behind = a0 - d;
    let tau = Infinity;
    if (behind <= 1e-9) tau = v <= readTokS ? 0 : Infinity;
    else if (readTokS > v) tau = behind / (readTokS - v);
    if (tau < dt) {
      if (tau > 0) out.push(ta0 + tau, d + readTokS * tau);
      out.push(ta1, a1);
      d = a1;
    } else {
      d += readTokS * dt;
      out.push(ta1, d);
    }
    td = ta1;
  }
  // Whatever was delivered and not yet read is read at the reader's pace.
  const last = delivered[n - 1];
  if (d < last - 1e-9) { td += (last - d) / readTokS; d = last; out.push(td, d); }
  return out;
}

/** Value of a piecewise-linear timeline (breakpoints [t, y, …], flat before and after) at t. */
function valueAt(p: ArrayLike<number>, t: number): number {
  const n = p.length;
  if (n === 0 || t <= p[0]) return n === 0 ? 0 : p[1];
  for (let i = 2; i < n; i += 2) {
    if (t <= p[i]) {
      const t0 = p[i - 2], t1 = p[i];
      return t1 > t0 ? p[i - 1] + ((p[i + 1] - p[i - 1]) * (t - t0)) / (t1 - t0) : p[i + 1];
    }
  }
  return p[n - 1];
}

/** ∫ min(f, g) dt over [from, to] for two piecewise-linear timelines (exact). */
export function integrateMin(f: ArrayLike<number>, g: ArrayLike<number>, from: number, to: number): number {
  if (!(to > from)) return 0;
  const ts: number[] = [from, to];
  for (let i = 0; i < f.length; i += 2) if (f[i] > from && f[i] < to) ts.push(f[i]);
  for (let i = 0; i < g.length; i += 2) if (g[i] > from && g[i] < to) ts.push(g[i]);
  ts.sort((a, b) => a - b);
  let area = 0;
  let t0 = ts[0];
  let f0 = valueAt(f, t0), g0 = valueAt(g, t0);
  for (let k = 1; k < ts.length; k++) {
    const t1 = ts[k];
    if (t1 <= t0) continue;
    const f1 = valueAt(f, t1), g1 = valueAt(g, t1);
    const d0 = f0 - g0, d1 = f1 - g1;
    if (d0 * d1 < 0) {
      // They cross inside: split at the crossing so each part is the integral of one line.
      const tc = t0 + ((t1 - t0) * d0) / (d0 - d1);
      const mc = f0 + ((f1 - f0) * (tc - t0)) / (t1 - t0);
      area += ((Math.min(f0, g0) + mc) / 2) * (tc - t0) + ((mc + Math.min(f1, g1)) / 2) * (t1 - tc);
    } else {
      area += ((Math.min(f0, g0) + Math.min(f1, g1)) / 2) * (t1 - t0);
    }
    t0 = t1; f0 = f1; g0 = g1;
  }
  return area;
}

/** Breakpoints of the expected timeline of an answer of `tokens` tokens arriving at `arrivalS`. */
export function expectedTimeline(arrivalS: number, tokens: number, target: QoeTarget): number[] {
  const start = arrivalS + target.firstTokenS;
  return [arrivalS, 0, start, 0, start + tokens / target.readTokS, tokens];
}

export interface AnswerQoe {
  /** 0..1. */
  qoe: number;
  /** When the reader has read the whole answer (undefined when it was not all delivered). */
  readEndS?: number;
}

/**
 * QoE of one answer of `tokens` tokens: `delivered` are its breakpoints from arrival (see
 * readTimeline); `complete` says whether all `tokens` were delivered. `horizonS` cuts the
 * evaluation (the run's end); an answer still streaming there earns only what was read by then.
 */
export function answerQoe(arrivalS: number, tokens: number, delivered: ArrayLike<number>, complete: boolean, target: QoeTarget, horizonS = Infinity): AnswerQoe {
  const expected = expectedTimeline(arrivalS, tokens, target);
  const expectedEnd = expected[4];
  const expectedArea = tokens * (expectedEnd - expected[2]) / 2;
  if (!(tokens > 0) || !(expectedArea > 0)) return { qoe: 0 };
  const read = readTimeline(delivered, target.readTokS);
  const readEnd = read.length ? read[read.length - 2] : arrivalS;
  const end = complete ? Math.max(expectedEnd, readEnd) : Math.max(expectedEnd, horizonS === Infinity ? readEnd : horizonS);
  // ∫E to `end`: the ramp, then the plateau at `tokens`.
  const denominator = expectedArea + tokens * Math.max(0, end - expectedEnd);
  const numerator = read.length ? integrateMin(read, expected, arrivalS, Math.min(end, horizonS)) : 0;
  const qoe = Math.max(0, Math.min(1, numerator / denominator));
  return complete ? { qoe, readEndS: readEnd } : { qoe };
}

/** Expected QoE of a stream whose first token comes after `firstTokenS` at `tokS`. */
export function expectedQoe(firstTokenS: number, tokS: number, tokens: number, target: QoeTarget): number {
  const n = Math.max(1, tokens);
  const end = firstTokenS + n / Math.max(1e-6, tokS);
  return answerQoe(0, n, [0, 0, firstTokenS, 0, end, n], true, target).qoe;
}
