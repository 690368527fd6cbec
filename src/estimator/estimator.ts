/**
 * The estimator: per-signal validation, hold, smoothing, slope and forecast.
 *
 * Pure in the sense the core needs: no clock, no I/O, no randomness; time comes from
 * `sample.t_ms`. For speed it keeps its history in preallocated typed arrays and MUTATES
 * them in `update` — an Estimator is owned by exactly one governor state.
 *
 * Per signal and sample:
 *  1. the reading (virtual sensors computed from `zone.<type>` keys, others read by name);
 *  2. health: missing / out-of-range / spike (slew since the last good reading faster than
 *     `maxSlewPerS`) / stuck (flat within its own quantum for `stuckAfterMs` while a physically
 *     coupled signal moved materially — evidence, not silence; see stuck.ts);
 *  3. a bad reading holds the last good value for at most `holdMs`, then the signal is `failed`
 *     and has no value at all (missing ≠ zero: consumers must treat it as unknown, never cool);
 *  4. an EMA with time constant `smoothingMs` (dt from t_ms): alpha = 1 − exp(−dt/τ);
 *  5. a least-squares slope (units/s) over the accepted raw readings of the last `slopeWindowMs`
 *     (Android's headroom forecast does the same over ≤ 30 one-second skin samples,
 *     research/01-thermal-governors.md §2.2), at least 3 points;
 *  6. forecast = smoothed + the expected rise over forecastHorizonMs: the straight line, or a
 *     settling exponential when the rise is visibly slowing (see `rise`).
 */
import type { Policy } from '../policy/types.js';
import { compileVirtuals, computeVirtuals, type CompiledVirtuals } from './virtual.js';
import { H_FAILED, H_MISSING, H_OK, H_OUT_OF_RANGE, H_SPIKE, H_STUCK, healthName, type SensorHealth } from './health.js';
import { FlatWatch, POWER_EVIDENCE_W } from './stuck.js';

/** Signals the governor's rules read even when the policy declares no sensor or limit for them. */
export const RULE_SIGNALS = ['mem_avail_mb', 'battery_pct', 'charging', 'battery_w', 'tok_s'] as const;

export interface SignalSpecCompiled {
  name: string;
  min: number;
  max: number;
  maxSlewPerS: number;
  critical: boolean;
  /** Declared by a SensorSpec (as opposed to tracked only because a rule or limit reads it). */
  declared: boolean;
  /**
   * May be judged stuck: it has a physically coupled signal whose movement is evidence (today
   * `soc_c`, coupled to discharge power). Raw zones of virtual sensors are judged by the watch too.
   */
  stuckEligible: boolean;
  /** How long a bad reading may hold the last good value (per-sensor override of control.holdMs). */
  holdMs: number;
  /** Slope and forecast are kept only for signals a limit reads (the rest would be wasted work). */
  forecasted: boolean;
}

export class Estimator {
  readonly signals: readonly SignalSpecCompiled[];
  readonly index: ReadonlyMap<string, number>;
  readonly virtuals: CompiledVirtuals;
  readonly smoothingMs: number;
  readonly slopeWindowMs: number;
  readonly horizonS: number;
  readonly stuckAfterMs: number;
  readonly ringCap: number;
  /** Flat-signal watch over the signals (channel i = signal i) and every matched raw zone. */
  readonly watch: FlatWatch;

  /** This sample's reading per signal (NaN = none). */
  readonly raw: Float64Array;
  /** Health code per signal (see health.ts). */
  readonly health: Uint8Array;
  /** 1 when the signal has a value to act on (fresh or held). */
  readonly usable: Uint8Array;
  /** Smoothed value (held while a fault is within holdMs); NaN when not usable. */
  readonly value: Float64Array;
  /** Latest accepted raw reading (held likewise); NaN when not usable. For fast rules (memory). */
  readonly current: Float64Array;
  /** Slope in units/s (NaN until 3 points in the window). */
  readonly slope: Float64Array;
  /** Smoothed value + slope · horizon (NaN when no slope). */
  readonly forecast: Float64Array;
  /** Time of the last accepted reading (NaN = never). */
  readonly lastGoodT: Float64Array;
  /** Why a failed signal failed (health code of its first bad reading). */
  readonly faultCause: Uint8Array;
  /** When the current fault began (NaN = no fault). */
  readonly faultSinceT: Float64Array;

  private readonly prevRaw: Float64Array;
  private readonly ringT: Float64Array;
  private readonly ringV: Float64Array;
  /** Per ring point: 1 when the reading differed from the one before it (a refresh, not a cached repeat). */
  private readonly ringM: Uint8Array;
  /** Per signal: how many points in the slope window are refreshes. */
  private readonly refreshes: Int32Array;
  private readonly ringHead: Int32Array;
  private readonly ringLen: Int32Array;
  private readonly pushes: Int32Array;
  private readonly anchorT: Float64Array;
  private readonly sx: Float64Array;
  private readonly sv: Float64Array;
  private readonly sxx: Float64Array;
  private readonly sxv: Float64Array;
  /**
   * The older half of the slope window (points before t − window/2) as running sums like the
   * whole window's: its points are a prefix of the ring, `oldLen` long. The newer half is the
   * difference. `rise` reads both halves in O(1) instead of a pass over the window per sample.
   */
  private readonly oldLen: Int32Array;
  private readonly osx: Float64Array;
  private readonly osv: Float64Array;
  private readonly osxx: Float64Array;
  private readonly osxv: Float64Array;
  private readonly moved: Uint8Array;
  /** Slope-window decimation (see the constructor): the last point's time, and the rise with it. */
  private readonly slopeGapMs: number;
  private readonly lastPushT: Float64Array;
  private readonly riseV: Float64Array;
  /** 1 when a reading since the last point differed from the one before it (the next point is a refresh). */
  private readonly pendingRefresh: Uint8Array;
  /** Per signal: 1 when this sample's reading is a virtual sensor's combination of its zones. */
  private readonly zoneFed: Uint8Array;
  // Per-signal limits as flat arrays: the hot loop reads these, not the spec objects.
  private readonly names: string[];
  private readonly minV: Float64Array;
  private readonly maxV: Float64Array;
  private readonly slewV: Float64Array;
  private readonly holdV: Float64Array;
  private readonly forecastOn: Uint8Array;
  /** Copies this policy's signals out of a sample into `raw` (generated; see makeReader). */
  private readonly readInto: (sample: Readonly<Record<string, number | undefined>>, raw: Float64Array) => void;
  private lastDtMs = NaN;
  private lastAlpha = 1;
  lastT = NaN;
  /** True when any signal's health code changed in the last update (reasons need rebuilding). */
  healthChanged = false;

  constructor(policy: Policy, extraSignals: readonly string[] = []) {
    const specs: SignalSpecCompiled[] = [];
    const index = new Map<string, number>();
    const add = (s: SignalSpecCompiled): void => {
      if (index.has(s.name)) return;
      index.set(s.name, specs.length);
      specs.push(s);
    };
    for (const s of policy.sensors) {
      add({
        name: s.name, min: s.min, max: s.max, maxSlewPerS: s.maxSlewPerS, critical: s.critical, declared: true,
        holdMs: s.holdMs ?? policy.control.holdMs, forecasted: false,
        stuckEligible: false,
      });
    }
    const undeclared = (name: string): SignalSpecCompiled => ({
      name, min: -Infinity, max: Infinity, maxSlewPerS: Infinity, critical: false, declared: false, stuckEligible: false,
      holdMs: policy.control.holdMs, forecasted: false,
    });
    for (const l of policy.limits) add(undeclared(l.signal));
    for (const name of RULE_SIGNALS) add(undeclared(name));
    for (const name of extraSignals) add(undeclared(name));

    const limited = new Set(policy.limits.map((l) => l.signal));
    for (const s of specs) s.forecasted = limited.has(s.name);
    this.signals = specs;
    this.index = index;
    this.virtuals = compileVirtuals(policy.sensors, index);
    const c = policy.control;
    this.smoothingMs = c.smoothingMs;
    this.slopeWindowMs = c.slopeWindowMs;
    this.horizonS = c.forecastHorizonMs / 1000;
    this.stuckAfterMs = Math.max(1, c.stuckAfterMs);
    // Twice the expected samples in the window (traces jitter), bounded so memory stays small.
    const expected = Math.ceil(c.slopeWindowMs / Math.max(1, c.samplePeriodMs)) + 1;
    this.ringCap = Math.min(4096, Math.max(8, 2 * expected));
    // The ring holds the window at up to twice the policy's sample rate, so readings closer than
    // half a sample period join it decimated: a 10 or 100 Hz trace under a 2 Hz policy keeps a
    // full window (else the ring held 4 s of a 10 s window and no slope was ever valid) and
    // costs no more than the rate the policy was written for.
    this.slopeGapMs = c.samplePeriodMs / 2;

    const n = specs.length;
    this.raw = new Float64Array(n).fill(NaN);
    this.health = new Uint8Array(n).fill(H_MISSING);
    this.usable = new Uint8Array(n);
    this.value = new Float64Array(n).fill(NaN);
    this.current = new Float64Array(n).fill(NaN);
    this.slope = new Float64Array(n).fill(NaN);
    this.forecast = new Float64Array(n).fill(NaN);
    this.lastGoodT = new Float64Array(n).fill(NaN);
    this.faultCause = new Uint8Array(n).fill(H_MISSING);
    this.faultSinceT = new Float64Array(n).fill(NaN);
    this.prevRaw = new Float64Array(n).fill(NaN);
    this.ringT = new Float64Array(n * this.ringCap);
    this.ringV = new Float64Array(n * this.ringCap);
    this.ringM = new Uint8Array(n * this.ringCap);
    this.refreshes = new Int32Array(n);
    this.ringHead = new Int32Array(n);
    this.ringLen = new Int32Array(n);
    this.pushes = new Int32Array(n);
    this.anchorT = new Float64Array(n);
    this.sx = new Float64Array(n);
    this.sv = new Float64Array(n);
    this.sxx = new Float64Array(n);
    this.sxv = new Float64Array(n);
    this.oldLen = new Int32Array(n);
    this.osx = new Float64Array(n);
    this.osv = new Float64Array(n);
    this.osxx = new Float64Array(n);
    this.osxv = new Float64Array(n);
    this.moved = new Uint8Array(n);
    this.lastPushT = new Float64Array(n).fill(NaN);
    this.riseV = new Float64Array(n);
    this.pendingRefresh = new Uint8Array(n);
    this.zoneFed = new Uint8Array(n);
    this.names = specs.map((s) => s.name);
    this.readInto = makeReader(this.names);
    this.minV = Float64Array.from(specs.map((s) => s.min));
    this.maxV = Float64Array.from(specs.map((s) => s.max));
    this.slewV = Float64Array.from(specs.map((s) => s.maxSlewPerS));
    this.holdV = Float64Array.from(specs.map((s) => s.holdMs));
    this.forecastOn = Uint8Array.from(specs.map((s) => (s.forecasted ? 1 : 0)));
    this.watch = new FlatWatch(this.stuckAfterMs);
    for (const s of specs) this.watch.add(s.name);
    const socIdx = index.get('soc_c');
    this.powerIdx = index.get('battery_w')!;
    this.chargingIdx = index.get('charging')!;
    if (socIdx !== undefined) {
      this.watch.couple(socIdx, this.powerIdx, POWER_EVIDENCE_W);
      specs[socIdx].stuckEligible = true;
    }
    this.watch.rebuild();
    this.virtuals.watch = this.watch;
    this.virtuals.powerCh = this.powerIdx;
  }

  private readonly powerIdx: number;
  private readonly chargingIdx: number;

  /** Feed one sample. Mutates this estimator. */
  update(sample: Readonly<Record<string, number | undefined>>): void {
    const t = sample.t_ms as number;
    const n = this.names.length;
    const raw = this.raw;
    const moved = this.moved;
    const prevRaw = this.prevRaw;
    // Pass 1: readings (virtual sensors from their zones); discharge power and the zones go to the flat watch.
    this.readInto(sample, raw);
    const watch = this.watch;
    // Discharge power is evidence for a die sensor only while discharging: on a charger the
    // battery's power is the charge current (it tapers on its own), not the SoC's load.
    const pw = raw[this.powerIdx];
    const chg = raw[this.chargingIdx];
    if (pw === pw && pw - pw === 0 && pw >= 0 && !(chg >= 0.5)) watch.observe(this.powerIdx, t, pw);
    else if (pw === pw || chg >= 0.5) watch.invalidate(this.powerIdx);
    if (this.virtuals.specs.length > 0) computeVirtuals(this.virtuals, sample, raw, t);
    const fromZones = this.virtuals.fromZones;
    const vspecs = this.virtuals.specs;
    const tracked = watch.tracked;
    const slewV = this.slewV;
    // A virtual sensor read from its zones is watched through them (they are judged, and a stuck
    // one left out of the combination); its own flat stretch restarts when it is read directly.
    const zoneFed = this.zoneFed;
    for (let v = 0; v < vspecs.length; v++) {
      const i = vspecs[v].signalIdx;
      zoneFed[i] = fromZones[v];
      if (fromZones[v] === 1) watch.reset(i);
    }
    // EMA weight for this dt (cached: sample periods are nearly always constant).
    const dtMs = this.lastT === this.lastT ? Math.max(0, t - this.lastT) : 0;
    if (dtMs !== this.lastDtMs) {
      this.lastDtMs = dtMs;
      this.lastAlpha = this.smoothingMs > 0 ? 1 - Math.exp(-dtMs / this.smoothingMs) : 1;
    }
    const alpha = this.lastAlpha;
    // Pass 2, one signal at a time: which moved (refreshes, for the slope), the flat watch,
    // health, hold, smoothing, slope. A signal's verdict can be given as soon as it is observed:
    // the only source a signal (not a zone) is coupled to is discharge power, observed above.
    const minV = this.minV;
    const maxV = this.maxV;
    const lastGoodT = this.lastGoodT;
    const stuck = watch.stuck;
    const eligible = watch.eligible;
    const health = this.health;
    const powerIdx = this.powerIdx;
    let healthChanged = false;
    for (let i = 0; i < n; i++) {
      const oldHealth = health[i];
      const r = raw[i];
      let cls = H_OK;
      if (r - r !== 0) {
        // NaN or ±Infinity: no reading.
        raw[i] = NaN;
        moved[i] = 0;
        cls = H_MISSING;
        // Its flat stretch goes on (a gap is no change); the evidence windows still widen.
        if (eligible[i] === 1 && zoneFed[i] === 0) watch.judgeChannel(i, t);
      } else {
        const p = prevRaw[i];
        moved[i] = p === p && r !== p ? 1 : 0;
        if (i !== powerIdx) {
          if (tracked[i] === 1) {
            if (zoneFed[i] === 0) {
              watch.observe(i, t, r);
              if (eligible[i] === 1) watch.judgeChannel(i, t);
            }
          // The quantum serves the spike check and stuck verdicts only: a signal with neither skips it.
          } else if (slewV[i] !== Infinity) watch.learnQuantum(i, r);
        }
        if (r < minV[i] || r > maxV[i]) cls = H_OUT_OF_RANGE;
        else {
          const lg = lastGoodT[i];
          const slew = slewV[i];
          if (lg === lg && slew !== Infinity && this.usable[i] === 1) {
            const dtS = (t - lg > 1 ? t - lg : 1) / 1000;
            const d = r - this.current[i];
            const ad = Math.abs(d);
            // A quantised sensor steps by a whole quantum between two polls however fast it is
            // read (0.1 °C battery, 1 °C thermistor): one step no larger than its learnt quantum
            // (this step, if it is the first) is not a spike, provided the slew limit allows it
            // over a second. Anything larger must fit the slew limit over the time elapsed.
            if (ad > slew * dtS && !(ad <= watch.quantum[i] * (1 + 1e-9) && ad <= slew)) cls = H_SPIKE;
          }
        }
        if (cls === H_OK && stuck[i] === 1) cls = H_STUCK;
        prevRaw[i] = r;
      }
      if (cls === H_OK) this.accept(i, t, r, alpha);
      else this.reject(i, t, cls);
      if (health[i] !== oldHealth) healthChanged = true;
    }
    // A raw zone judged stuck (or recovered) changes what its virtual sensor reads and the reasons.
    if (watch.changed) { healthChanged = true; watch.changed = false; }
    this.healthChanged = healthChanged;
    this.lastT = t;
  }

  private accept(i: number, t: number, r: number, alpha: number): void {
    const lg = this.lastGoodT[i];
    if (lg !== lg || t - lg > this.holdV[i] || this.usable[i] === 0) {
      // First reading, or back after a failure: old history says nothing about now.
      this.value[i] = r;
      this.clearSlope(i, t);
    } else {
      const v = this.value[i] + alpha * (r - this.value[i]);
      // Converged on a steady reading: read it exactly. The float residue of an EMA (49.99999…
      // after 30 s at 50) would keep a whole-degree sensor sitting exactly at a set point from
      // ever reaching it (the Galaxy C7 Pro's skin at 50 °C).
      // (Math.abs, not a ternary: noisy readings would mispredict its branch half the time.)
      this.value[i] = Math.abs(v - r) <= 1e-9 * (1 + Math.abs(r)) ? r : v;
    }
    this.current[i] = r;
    this.lastGoodT[i] = t;
    this.usable[i] = 1;
    this.health[i] = H_OK;
    this.faultSinceT[i] = NaN;
    if (this.forecastOn[i] === 1) {
      const refreshed = this.pendingRefresh[i] | this.moved[i];
      const lp = this.lastPushT[i];
      if (lp !== lp || t - lp >= this.slopeGapMs || t < lp) {
        this.pendingRefresh[i] = 0;
        this.lastPushT[i] = t;
        this.pushSlope(i, t, r, refreshed);
      } else this.pendingRefresh[i] = refreshed; // between points the slope and its rise stand
      // The forecast follows the smoothed value on every reading.
      const s = this.slope[i];
      this.forecast[i] = s === s ? this.value[i] + this.riseV[i] : NaN;
    }
  }

  private reject(i: number, t: number, cls: number): void {
    if (this.faultSinceT[i] !== this.faultSinceT[i]) {
      this.faultSinceT[i] = t;
      this.faultCause[i] = cls;
    }
    const lg = this.lastGoodT[i];
    const holdable = cls !== H_STUCK && this.usable[i] === 1 && lg === lg && t - lg <= this.holdV[i];
    if (holdable) {
      this.health[i] = cls; // held: value, current, slope and forecast stay as they were
      return;
    }
    // Never seen → `missing`; seen and lost for longer than holdMs → `failed`; stuck → `stuck`.
    this.health[i] = cls === H_STUCK ? H_STUCK : lg === lg ? H_FAILED : cls;
    this.usable[i] = 0;
    this.value[i] = NaN;
    this.current[i] = NaN;
    this.slope[i] = NaN;
    this.forecast[i] = NaN;
  }

  /**
   * Forget signal `i`'s slope window, e.g. after a step the governor itself caused (its own
   * model footprint moving MemAvailable): a forecast extrapolating our own load is a false
   * alarm. No forecast until the window has refilled with `minimum span` of new readings.
   */
  clearSlope(i: number, t: number): void {
    if (i < 0) return;
    this.ringLen[i] = 0;
    this.ringHead[i] = 0;
    this.refreshes[i] = 0;
    this.pushes[i] = 0;
    this.anchorT[i] = t;
    this.sx[i] = this.sv[i] = this.sxx[i] = this.sxv[i] = 0;
    this.oldLen[i] = 0;
    this.osx[i] = this.osv[i] = this.osxx[i] = this.osxv[i] = 0;
    this.lastPushT[i] = NaN;
    this.pendingRefresh[i] = 0;
    this.slope[i] = NaN;
    this.forecast[i] = NaN;
  }

  private pushSlope(i: number, t: number, v: number, refreshed: number): void {
    const cap = this.ringCap;
    const base = i * cap;
    const minT = t - this.slopeWindowMs;
    // Evict points older than the window (and the oldest when full).
    while (this.ringLen[i] > 0) {
      const h = this.ringHead[i];
      const ot = this.ringT[base + h];
      if (ot >= minT && this.ringLen[i] < cap) break;
      const ox = (ot - this.anchorT[i]) / 1000;
      const ov = this.ringV[base + h];
      this.refreshes[i] -= this.ringM[base + h];
      this.sx[i] -= ox;
      this.sv[i] -= ov;
      this.sxx[i] -= ox * ox;
      this.sxv[i] -= ox * ov;
      if (this.oldLen[i] > 0) {
        // The oldest point is in the older half (unless the ring overflowed inside the newer one).
        this.osx[i] -= ox;
        this.osv[i] -= ov;
        this.osxx[i] -= ox * ox;
        this.osxv[i] -= ox * ov;
        this.oldLen[i]--;
      }
      this.ringHead[i] = h + 1 === cap ? 0 : h + 1;
      this.ringLen[i]--;
    }
    let tail = this.ringHead[i] + this.ringLen[i];
    if (tail >= cap) tail -= cap;
    this.ringT[base + tail] = t;
    this.ringV[base + tail] = v;
    this.ringM[base + tail] = refreshed;
    this.refreshes[i] += refreshed;
    this.ringLen[i]++;
    if (++this.pushes[i] >= cap) this.rebase(i);
    else {
      const x = (t - this.anchorT[i]) / 1000;
      this.sx[i] += x;
      this.sv[i] += v;
      this.sxx[i] += x * x;
      this.sxv[i] += x * v;
    }
    const len = this.ringLen[i];
    let slope = NaN;
    // At least 3 points spanning half the window: a slope from a second of data,
    // extrapolated over the horizon, is noise (the AOSP forecast waits for 3 samples too).
    // And at least 3 of them REFRESHES (a reading that differs from the one before): a sensor
    // cached between refreshes (Pixel virtual skin: 30 s cool, 7 s hot) is a staircase, and a
    // 10 s fit through one or two of its steps reads a ramp — a 0.8 °C noisy refresh became
    // +1 °C in 10 s on a skin rising 0.002 °C/s, and swapped the model (docs/core.md §1).
    if (len >= 3 && this.refreshes[i] >= 3 && t - this.ringT[base + this.ringHead[i]] >= this.slopeWindowMs / 2) {
      const den = len * this.sxx[i] - this.sx[i] * this.sx[i];
      if (den > 1e-12) slope = (len * this.sxv[i] - this.sx[i] * this.sv[i]) / den;
    }
    this.slope[i] = slope;
    this.riseV[i] = slope === slope ? this.rise(i, t, slope) : 0;
  }

  /**
   * Expected change over the horizon. A node heated by a step approaches its new level
   * exponentially; a straight line through its first seconds overshoots by horizon/τ (a hotspot's
   * τ is seconds, research/05 §5a). So the node's τ is learned online from how the rise slows:
   * slopes over the older and the newer half of the window, s_old and s_new, same sign and
   * |s_new| < |s_old| ⇒ τ = (window/2) / ln(s_old/s_new), and the rise is s_new·τ·(1 − e^(−H/τ)).
   * A steady ramp (skin over minutes: no measurable slowing) keeps the straight line.
   */
  private rise(i: number, t: number, slope: number): number {
    const H = this.horizonS;
    const cap = this.ringCap;
    const base = i * cap;
    const len = this.ringLen[i];
    // Points that have passed the window's midpoint join the older half (times only grow, so a
    // point joins once; done here, lazily, because only a valid slope asks for the halves).
    const mid = t - this.slopeWindowMs / 2;
    while (this.oldLen[i] < len) {
      let j = this.ringHead[i] + this.oldLen[i];
      if (j >= cap) j -= cap;
      const pt = this.ringT[base + j];
      if (!(pt < mid)) break;
      const ox = (pt - this.anchorT[i]) / 1000;
      const ov = this.ringV[base + j];
      this.osx[i] += ox;
      this.osv[i] += ov;
      this.osxx[i] += ox * ox;
      this.osxv[i] += ox * ov;
      this.oldLen[i]++;
    }
    // Two least-squares slopes, one per half window, from the halves' running sums (x relative
    // to the ring's anchor, s: a slope does not depend on where x starts).
    const n1 = this.oldLen[i];
    const n2 = len - n1;
    if (n1 < 3 || n2 < 3) return slope * H;
    const x1 = this.osx[i], v1 = this.osv[i], xx1 = this.osxx[i], xv1 = this.osxv[i];
    const x2 = this.sx[i] - x1, v2 = this.sv[i] - v1, xx2 = this.sxx[i] - xx1, xv2 = this.sxv[i] - xv1;
    const d1 = n1 * xx1 - x1 * x1, d2 = n2 * xx2 - x2 * x2;
    if (d1 <= 1e-12 || d2 <= 1e-12) return slope * H;
    const sOld = (n1 * xv1 - x1 * v1) / d1;
    const sNew = (n2 * xv2 - x2 * v2) / d2;
    if (!(sOld * sNew > 0) || Math.abs(sNew) >= Math.abs(sOld)) return slope * H;
    const tau = this.slopeWindowMs / 2000 / Math.log(sOld / sNew);
    if (!(tau > 0) || tau >= 1e6) return slope * H;
    return sNew * tau * (1 - Math.exp(-H / tau));
  }

  /** Recompute the running sums from scratch, anchored at the oldest point, so rounding never accumulates. */
  private rebase(i: number): void {
    const cap = this.ringCap;
    const base = i * cap;
    const len = this.ringLen[i];
    const head = this.ringHead[i];
    const anchor = this.ringT[base + head];
    const oldLen = this.oldLen[i];
    let sx = 0, sv = 0, sxx = 0, sxv = 0;
    for (let k = 0; k < len; k++) {
      if (k === oldLen) { this.osx[i] = sx; this.osv[i] = sv; this.osxx[i] = sxx; this.osxv[i] = sxv; }
      const j = base + ((head + k) % cap);
      const x = (this.ringT[j] - anchor) / 1000;
      const v = this.ringV[j];
      sx += x; sv += v; sxx += x * x; sxv += x * v;
    }
    if (oldLen >= len) { this.osx[i] = sx; this.osv[i] = sv; this.osxx[i] = sxx; this.osxv[i] = sxv; }
    this.anchorT[i] = anchor;
    this.sx[i] = sx; this.sv[i] = sv; this.sxx[i] = sxx; this.sxv[i] = sxv;
    this.pushes[i] = 0;
  }

  /** Seconds until `threshold` is reached on the current slope; undefined when not heading there. */
  timeToLimitS(i: number, threshold: number): number | undefined {
    const v = this.value[i];
    const s = this.slope[i];
    if (v !== v || s !== s || s === 0) return undefined;
    const tt = (threshold - v) / s;
    return tt >= 0 ? tt : undefined;
  }

  /** A readable snapshot of one signal (allocates; for status, tests and reasons — not the hot path). */
  estimate(name: string): SignalEstimate | undefined {
    const i = this.index.get(name);
    if (i === undefined) return undefined;
    const num = (x: number): number | undefined => (x === x ? x : undefined);
    return {
      signal: name,
      health: healthName(this.health[i]),
      usable: this.usable[i] === 1,
      value: num(this.value[i]),
      current: num(this.current[i]),
      slopePerS: num(this.slope[i]),
      forecast: num(this.forecast[i]),
      critical: this.signals[i].critical,
    };
  }

  /** Copy the history of every signal both estimators track (hot reload keeps what it knew). */
  carryOverFrom(old: Estimator): void {
    for (const [name, i] of this.index) {
      const j = old.index.get(name);
      if (j === undefined) continue;
      this.health[i] = old.health[j];
      this.usable[i] = old.usable[j];
      this.value[i] = old.value[j];
      this.current[i] = old.current[j];
      this.slope[i] = old.slope[j];
      this.forecast[i] = old.forecast[j];
      this.lastGoodT[i] = old.lastGoodT[j];
      this.faultCause[i] = old.faultCause[j];
      this.faultSinceT[i] = old.faultSinceT[j];
      this.prevRaw[i] = old.prevRaw[j];
      this.watch.copyFrom(old.watch, j, i);
      // Replay the old slope window into the new ring (its size may differ).
      const len = old.ringLen[j];
      const baseOld = j * old.ringCap;
      this.ringLen[i] = 0;
      this.ringHead[i] = 0;
      this.refreshes[i] = 0;
      this.pushes[i] = 0;
      this.sx[i] = this.sv[i] = this.sxx[i] = this.sxv[i] = 0;
      // The older half refills at the next reading (its points are re-sorted by the midpoint then).
      this.oldLen[i] = 0;
      for (let k = Math.max(0, len - this.ringCap); k < len; k++) {
        const jj = baseOld + ((old.ringHead[j] + k) % old.ringCap);
        const tail = this.ringLen[i];
        this.ringT[i * this.ringCap + tail] = old.ringT[jj];
        this.ringV[i * this.ringCap + tail] = old.ringV[jj];
        this.ringM[i * this.ringCap + tail] = old.ringM[jj];
        this.refreshes[i] += old.ringM[jj];
        this.ringLen[i]++;
      }
      if (this.ringLen[i] > 0) this.rebase(i);
    }
    this.lastT = old.lastT;
  }
}

/**
 * A reader specialised to the policy's signal names: `raw[0] = s["soc_c"]; …`. Constant
 * property names give V8 monomorphic inline caches for samples of one shape, several times
 * faster than a loop of computed-key lookups — this is the hottest line of the core. The
 * names are embedded with JSON.stringify, so any string is a safe literal.
 */
function makeReader(names: readonly string[]): (sample: Readonly<Record<string, number | undefined>>, raw: Float64Array) => void {
  const body = names
    .map((name, i) => `v = s[${JSON.stringify(name)}]; raw[${i}] = v === undefined ? NaN : v;`)
    .join('\n');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('s', 'raw', `let v;\n${body}`) as (s: Readonly<Record<string, number | undefined>>, raw: Float64Array) => void;
}

export interface SignalEstimate {
  signal: string;
  health: SensorHealth;
  usable: boolean;
  /** Smoothed value. */
  value?: number;
  /** Latest accepted raw reading. */
  current?: number;
  slopePerS?: number;
  forecast?: number;
  critical: boolean;
}
