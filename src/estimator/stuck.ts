/**
 * Stuck-sensor detection by evidence, not silence (docs/core.md §1).
 *
 * A reading that stays flat is normal on real hardware: battery temperature in 0.1 °C steps sits
 * still for minutes at rest, a board thermistor read in whole °C, a Pi sensor quantised to 0.538 °C,
 * a constant charge gauge. So a channel (a signal or a raw zone) is `stuck` only when BOTH
 *
 *  (a) it has not changed by half of its own quantum for `stuckAfterMs` (Pixel's thermal HAL uses
 *      `MinStuckDuration` 120 s, research/01 §2.3) — the quantum is learnt from the channel's own
 *      history: the smallest non-zero step it has ever made (unknown = any change counts), and
 *  (b) in that same window a PHYSICALLY COUPLED channel moved by a material amount: another zone of
 *      the same virtual sensor by `ZONE_EVIDENCE_C`, or the discharge power by `POWER_EVIDENCE_W`
 *      (power heats the die within seconds). Movement is measured on a slow EMA (τ = window / 4) of
 *      the coupled channel, as its range over the window, so sensor noise and a one-sample burst on
 *      an unrelated or coupled signal are not evidence.
 *
 * The verdict clears at the first change. Channels with no coupled channel are never judged stuck
 * (no evidence is possible): slow nodes such as skin and battery are caught by hold/range/spike.
 *
 * Hot path: typed arrays, no allocation. Channels are added at construction and when a new zone key
 * first appears (rare), which rebuilds the coupling tables.
 */

/** A coupled zone must move this much (°C, slow EMA range) while the channel stays flat. */
export const ZONE_EVIDENCE_C = 5;
/** Discharge power must move this much (W, slow EMA range) while a die channel stays flat. */
export const POWER_EVIDENCE_W = 1;

interface Coupling { target: number; source: number; threshold: number }

export class FlatWatch {
  readonly stuckAfterMs: number;
  private readonly tauMs: number;
  n = 0;
  names: string[] = [];
  /** 1 = may be judged stuck (has evidence sources). */
  eligible: Uint8Array = new Uint8Array(8);
  /** 1 = evidence for some other channel: only these keep the slow EMA (it costs a division). */
  private source: Uint8Array = new Uint8Array(8);
  /**
   * 1 = eligible or a source: `observe` has work beyond learning the quantum. The estimator learns
   * the quantum of the other channels inline (`learnQuantum`), the hot loop's commonest case.
   */
  tracked: Uint8Array = new Uint8Array(8);
  /** The eligible channels in order (judge visits only these). */
  private eligibleList: Int32Array = new Int32Array(0);
  /** EMA weight for the last dt (cached: sample periods are nearly always constant). */
  private emaDtMs = NaN;
  private emaWeight = 0;
  /** Learnt quantum: smallest non-zero step seen (Infinity = never changed). */
  quantum: Float64Array = new Float64Array(8);
  /** The channel's previous finite reading (NaN = none, or reset). */
  last: Float64Array = new Float64Array(8);
  /** Reading at the start of the current flat stretch (NaN = none yet). */
  ref: Float64Array = new Float64Array(8);
  /** Start of the current flat stretch. */
  since: Float64Array = new Float64Array(8);
  private ema: Float64Array = new Float64Array(8);
  private emaT: Float64Array = new Float64Array(8);
  stuck: Uint8Array = new Uint8Array(8);
  /** Evidence at the verdict: the source channel, how much it moved, over what window. */
  evSource: Int32Array = new Int32Array(8);
  evDelta: Float64Array = new Float64Array(8);
  evWindowMs: Float64Array = new Float64Array(8);
  /** Set when any stuck flag flipped since the last `clearChanged`. */
  changed = false;
  /** How many channels are stuck now (0 lets consumers skip looking). */
  stuckCount = 0;
  private couplings: Coupling[] = [];
  private pairStart = new Int32Array(9);
  private pairSrc = new Int32Array(0);
  private pairThr = new Float64Array(0);
  private pairMin = new Float64Array(0);
  private pairMax = new Float64Array(0);
  /** The flat stretch (its `since`) each pair's window belongs to. */
  private pairSince = new Float64Array(0);

  constructor(stuckAfterMs: number) {
    this.stuckAfterMs = stuckAfterMs;
    this.tauMs = Math.max(1, stuckAfterMs / 4);
  }

  /** Adds a channel (not on the hot path). */
  add(name: string): number {
    const id = this.n++;
    if (id >= this.eligible.length) this.grow(Math.max(16, 2 * this.eligible.length));
    this.names.push(name);
    this.eligible[id] = 0;
    this.source[id] = 0;
    this.tracked[id] = 0;
    this.quantum[id] = Infinity;
    this.last[id] = NaN;
    this.ref[id] = NaN;
    this.since[id] = NaN;
    this.ema[id] = NaN;
    this.emaT[id] = NaN;
    this.stuck[id] = 0;
    this.evSource[id] = -1;
    return id;
  }

  /** `target` may be judged stuck when `source` moves by `threshold` while it stays flat. */
  couple(target: number, source: number, threshold: number): void {
    if (target === source) return;
    this.couplings.push({ target, source, threshold });
    this.eligible[target] = 1;
    this.source[source] = 1;
    this.tracked[target] = 1;
    this.tracked[source] = 1;
  }

  /** Rebuilds the pair tables after `add`/`couple` (keeps what the existing pairs saw). */
  rebuild(): void {
    const n = this.n;
    const old = new Map<string, [number, number, number]>();
    for (let ch = 0; ch < this.pairStart.length - 1 && ch < n; ch++) {
      for (let p = this.pairStart[ch]; p < this.pairStart[ch + 1]; p++) old.set(`${ch}:${this.pairSrc[p]}`, [this.pairMin[p], this.pairMax[p], this.pairSince[p]]);
    }
    const byTarget: Coupling[][] = Array.from({ length: n }, () => []);
    for (const c of this.couplings) byTarget[c.target].push(c);
    const total = this.couplings.length;
    this.pairStart = new Int32Array(n + 1);
    this.pairSrc = new Int32Array(total);
    this.pairThr = new Float64Array(total);
    this.pairMin = new Float64Array(total).fill(NaN);
    this.pairMax = new Float64Array(total).fill(NaN);
    this.pairSince = new Float64Array(total).fill(NaN);
    let p = 0;
    for (let ch = 0; ch < n; ch++) {
      this.pairStart[ch] = p;
      for (const c of byTarget[ch]) {
        this.pairSrc[p] = c.source;
        this.pairThr[p] = c.threshold;
        const seen = old.get(`${ch}:${c.source}`);
        if (seen) { this.pairMin[p] = seen[0]; this.pairMax[p] = seen[1]; this.pairSince[p] = seen[2]; }
        p++;
      }
    }
    this.pairStart[n] = p;
    const eligible: number[] = [];
    for (let ch = 0; ch < n; ch++) if (this.eligible[ch] === 1) eligible.push(ch);
    this.eligibleList = Int32Array.from(eligible);
  }

  private grow(cap: number): void {
    const f = (a: Float64Array): Float64Array => { const b = new Float64Array(cap); b.set(a); return b; };
    const u = (a: Uint8Array): Uint8Array => { const b = new Uint8Array(cap); b.set(a); return b; };
    this.eligible = u(this.eligible);
    this.source = u(this.source);
    this.tracked = u(this.tracked);
    this.quantum = f(this.quantum);
    this.last = f(this.last);
    this.ref = f(this.ref);
    this.since = f(this.since);
    this.ema = f(this.ema);
    this.emaT = f(this.emaT);
    this.stuck = u(this.stuck);
    const ev = new Int32Array(cap); ev.set(this.evSource); this.evSource = ev;
    this.evDelta = f(this.evDelta);
    this.evWindowMs = f(this.evWindowMs);
  }

  /** A reading of an untracked channel `ch` (finite): all `observe` does for it. */
  learnQuantum(ch: number, r: number): void {
    const p = this.last[ch];
    if (p === p) {
      const d = Math.abs(r - p);
      // Ignore float noise of recomputed values (an avg of quantised zones): not a step.
      if (d > 1e-9 * (1 + Math.abs(r)) && d < this.quantum[ch]) this.quantum[ch] = d;
    }
    this.last[ch] = r;
  }

  /** A reading of channel `ch` at `t` (finite). */
  observe(ch: number, t: number, r: number): void {
    this.learnQuantum(ch, r);
    if (this.tracked[ch] === 0) return;
    if (this.source[ch] === 1) {
      const et = this.emaT[ch];
      if (et !== et || this.ema[ch] !== this.ema[ch]) this.ema[ch] = r;
      else {
        const dt = t - et;
        if (dt > 0) {
          if (dt !== this.emaDtMs) { this.emaDtMs = dt; this.emaWeight = dt / (this.tauMs + dt); }
          this.ema[ch] += this.emaWeight * (r - this.ema[ch]);
        }
      }
      this.emaT[ch] = t;
    }
    if (this.eligible[ch] === 0) return;
    const ref = this.ref[ch];
    if (ref !== ref) { this.startFlat(ch, t, r); return; }
    const d = Math.abs(r - ref);
    const q = this.quantum[ch];
    if (q === Infinity ? d > 1e-9 * (1 + Math.abs(r)) : d >= 0.5 * q) {
      if (this.stuck[ch] === 1) { this.stuck[ch] = 0; this.stuckCount--; this.changed = true; }
      this.startFlat(ch, t, r);
    }
  }

  /** Channel `ch` is not evidence right now (e.g. battery power while charging): its EMA restarts. */
  invalidate(ch: number): void {
    this.ema[ch] = NaN;
    this.emaT[ch] = NaN;
  }

  /** Forget the flat stretch of `ch` (its reading now comes from elsewhere). */
  reset(ch: number): void {
    this.ref[ch] = NaN;
    this.last[ch] = NaN;
    if (this.stuck[ch] === 1) { this.stuck[ch] = 0; this.stuckCount--; this.changed = true; }
  }

  /**
   * A new flat stretch from `t`. Its evidence windows open at the stretch's next sample, with the
   * sources' EMAs as they stand once that whole sample is seen (so a verdict does not depend on
   * the order of the zone keys in a sample).
   */
  private startFlat(ch: number, t: number, r: number): void {
    this.ref[ch] = r;
    this.since[ch] = t;
  }

  /** After every channel has observed this sample: widen the evidence windows and give verdicts. */
  judge(t: number, from = 0, to = this.n): void {
    const list = this.eligibleList;
    for (let k = 0; k < list.length; k++) {
      const ch = list[k];
      if (ch >= from && ch < to) this.judgeChannel(ch, t);
    }
  }

  /**
   * One eligible channel's verdict at `t`: widen its evidence windows, and call it stuck when it
   * has been flat for the window while a source moved by its threshold. Every source of `ch`
   * must have observed this sample first.
   */
  judgeChannel(ch: number, t: number): void {
    if (this.stuck[ch] === 1) return;
    const since = this.since[ch];
    if (since !== since) return;
    // A stretch that began with this sample has nothing to judge yet: its evidence windows open
    // at its second sample (a noisy channel restarts every sample, and pays nothing here).
    if (since === t) return;
    const flatLongEnough = t - since >= this.stuckAfterMs;
    const end = this.pairStart[ch + 1];
    let best = -1;
    let bestRatio = 1;
    for (let p = this.pairStart[ch]; p < end; p++) {
      const e = this.ema[this.pairSrc[p]];
      if (e !== e) { this.pairMin[p] = this.pairMax[p] = NaN; continue; }
      if (this.pairSince[p] !== since || this.pairMin[p] !== this.pairMin[p]) {
        // The window opens (for this stretch, or again after the source had no EMA).
        this.pairSince[p] = since;
        this.pairMin[p] = this.pairMax[p] = e;
        continue;
      }
      if (e < this.pairMin[p]) this.pairMin[p] = e;
      else if (e > this.pairMax[p]) this.pairMax[p] = e;
      if (flatLongEnough) {
        const ratio = (this.pairMax[p] - this.pairMin[p]) / this.pairThr[p];
        if (ratio >= bestRatio) { bestRatio = ratio; best = p; }
      }
    }
    if (best >= 0) {
      this.stuck[ch] = 1;
      this.stuckCount++;
      this.changed = true;
      this.evSource[ch] = this.pairSrc[best];
      this.evDelta[ch] = this.pairMax[best] - this.pairMin[best];
      this.evWindowMs[ch] = t - since;
    }
  }

  /** Hot reload: carry channel `from` of `old` over to channel `ch` of this watch. */
  copyFrom(old: FlatWatch, from: number, ch: number): void {
    this.quantum[ch] = old.quantum[from];
    this.last[ch] = old.last[from];
    this.ema[ch] = old.ema[from];
    this.emaT[ch] = old.emaT[from];
    if (this.stuck[ch] !== old.stuck[from]) this.stuckCount += old.stuck[from] === 1 ? 1 : -1;
    this.stuck[ch] = old.stuck[from];
    this.evSource[ch] = -1;
    this.evDelta[ch] = old.evDelta[from];
    this.evWindowMs[ch] = old.evWindowMs[from];
    // The flat stretch goes on. Its evidence windows belong to the old coupling table: this
    // table's pairs have not seen the stretch (`pairSince`), so the next judge opens them afresh.
    this.ref[ch] = old.ref[from];
    this.since[ch] = old.since[from];
  }

  /** Why channel `ch` is stuck, for reasons (allocates; not the hot path). */
  describe(ch: number, unit: (name: string) => string): string {
    const q = this.quantum[ch];
    const src = this.evSource[ch];
    const srcName = src >= 0 ? this.names[src] : 'a coupled signal';
    const r2 = (x: number): string => String(Math.round(x * 100) / 100);
    return `stuck: flat at ${r2(this.ref[ch])}${q === Infinity ? ' (never changed)' : ` (no step of its ${r2(q)} quantum)`}` +
      ` for ${r2(this.evWindowMs[ch] / 1000)} s while ${srcName} moved ${r2(this.evDelta[ch])} ${unit(srcName)} in that window`;
  }
}
