/**
 * The replay summary of SPEC §8, accumulated one step at a time so that a replay of any
 * length needs constant memory.
 *
 * Time accounting: a sample's decision holds from its t_ms until the next sample's t_ms
 * (the last sample holds for zero time), so the time-in-X figures always add up to
 * `durationS`.
 */
import type { Policy } from '../policy/types.js';
import type { Sample } from '../core/signals.js';
import { ZONE_PREFIX } from '../core/signals.js';
import { sameEngineKnobs, sameKnobs, type Decision } from '../core/decision.js';
import { SEVERITIES, type Severity } from '../core/severity.js';
import type { BadRowKind } from '../trace/reader.js';
import { faultConsequenceOf } from '../core/governor.js';

export interface ReplaySummary {
  trace: string;
  policy: string;
  /** Samples inside the replay window (after --from/--to). */
  samples: number;
  durationS: number;
  /** Decisions whose knobs or severity differ from the previous one (the first decision is not a change). */
  decisionChanges: number;
  /** Changes of what an engine applies (tier, quant, context, batch, threads, pacing, offload) per minute. */
  knobChangesPerMin: number;
  timeInSeverityS: Record<Severity, number>;
  timeInTierS: Record<string, number>;
  /** Time with offload other than `local`. */
  timeOffloadedS: number;
  timeByOffloadS: { local: number; cloud: number; pause: number };
  /** Highest reading of every temperature signal seen (`*_c` and `zone.*`), °C. */
  maxC: Record<string, number>;
  /**
   * Fault episodes (a reason with rule `sensor-*` naming a signal, appearing after a decision
   * without it), and for each faulted signal the consequence in force (`onFault`, and whether it
   * is the role default rather than written in the policy).
   */
  sensorFaults: { count: number; bySignal: Record<string, number>; onFault: Record<string, { onFault: string; byDefault: boolean }> };
  /** Time spent at the policy's safe tier because sensors failed. */
  timeSafeS: number;
  /** Time with a tier floor forced by a fault: an `onFault` cap or safe, or an unknown MemAvailable (includes timeSafeS). */
  timeFaultCappedS: number;
  /** Signals the policy reads that the trace never carries: not on the recorded device, so never a fault. */
  signalsNotOnDevice: string[];
  /** True under --strict-signals: every signal counts as on the device, a missing one is a fault. */
  strictSignals: boolean;
  finalDecision: Decision | null;
  /** The window replayed, ms of trace time; null = open. */
  window: { fromMs: number | null; toMs: number | null };
  skippedRows: number;
  skippedByKind: Partial<Record<BadRowKind, number>>;
  warnings: string[];
}

export interface SummaryOptions {
  trace: string;
  fromMs?: number;
  toMs?: number;
  signalsNotOnDevice?: readonly string[];
  strictSignals?: boolean;
}

/** True for signals whose values are °C and belong in `maxC`. */
export function isTemperatureSignal(name: string): boolean {
  return name.startsWith(ZONE_PREFIX) || (name.endsWith('_c') && name !== 't_ms');
}

export class SummaryAccumulator {
  private samples = 0;
  private firstT: number | undefined;
  private prevT = 0;
  /** Start of the current run of decisions with equal knobs. */
  private runStartT = 0;
  private prev: Decision | undefined;
  private decisionChanges = 0;
  private knobChanges = 0;
  private readonly timeInSeverityMs: Record<string, number> = {};
  private readonly timeInTierMs: Record<string, number> = {};
  private readonly timeByOffloadMs = { local: 0, cloud: 0, pause: 0 };
  private timeSafeMs = 0;
  private timeFaultCappedMs = 0;
  /** Whether the previous sample's step had a fault-forced floor (it holds until this sample). */
  private prevFaultFloor = false;
  private readonly maxC: Record<string, number> = {};
  private tempColumns: string[] = [];
  private knownColumnCount = -1;
  private readonly faultsBySignal: Record<string, number> = {};
  private faultCount = 0;
  private prevFaults = new Set<string>();
  private lastReasons: Decision['reasons'] | undefined;

  constructor(private readonly policy: Policy, private readonly opts: SummaryOptions) {
    for (const s of SEVERITIES) this.timeInSeverityMs[s] = 0;
    for (const t of policy.tiers) this.timeInTierMs[t.name] = 0;
  }

  /** Is `t_ms` inside the window? */
  inWindow(tMs: number): boolean {
    return (this.opts.fromMs === undefined || tMs >= this.opts.fromMs) && (this.opts.toMs === undefined || tMs <= this.opts.toMs);
  }

  /** Tells the accumulator the trace's column list (it may grow for JSONL); cheap when unchanged. */
  columns(cols: readonly string[]): void {
    if (cols.length === this.knownColumnCount) return;
    this.knownColumnCount = cols.length;
    this.tempColumns = cols.filter(isTemperatureSignal);
  }

  /**
   * Adds one step inside the window. Returns true when the decision is a change (or the
   * first decision of the window), i.e. something a `--decisions` file should record.
   * `faultFloor`: the step's tier had a floor forced by a fault (`faultFloorInForce`).
   */
  add(sample: Sample, decision: Decision, faultFloor = false): boolean {
    const t = sample.t_ms;
    let record = false;
    if (this.prevFaultFloor) this.timeFaultCappedMs += t - this.prevT;
    this.prevFaultFloor = faultFloor;
    if (this.prev === undefined) {
      this.firstT = t;
      record = true;
      this.runStartT = t;
    } else if (!sameKnobs(this.prev, decision)) {
      // Everything credited (severity, tier, offload, safe) is part of sameKnobs, so a run of
      // equal decisions is credited once, when it ends — not once per sample.
      this.credit(this.prev, t - this.runStartT);
      this.runStartT = t;
      this.decisionChanges++;
      record = true;
      if (!sameEngineKnobs(this.prev, decision)) this.knobChanges++;
    }
    this.samples++;
    this.prevT = t;
    this.prev = decision;

    const temps = this.tempColumns;
    for (let i = 0; i < temps.length; i++) {
      const v = sample[temps[i]];
      if (v !== undefined && v === v) {
        const m = this.maxC[temps[i]];
        if (m === undefined || v > m) this.maxC[temps[i]] = v;
      }
    }
    this.countFaults(decision);
    return record;
  }

  private credit(d: Decision, dtMs: number): void {
    this.timeInSeverityMs[d.severity] += dtMs;
    this.timeInTierMs[d.tier] = (this.timeInTierMs[d.tier] ?? 0) + dtMs;
    this.timeByOffloadMs[d.offload] += dtMs;
    if (d.safe) this.timeSafeMs += dtMs;
  }

  private countFaults(d: Decision): void {
    // The core reuses one reasons array while nothing it describes changes: nothing new to count.
    if (d.reasons === this.lastReasons) return;
    this.lastReasons = d.reasons;
    let now: Set<string> | undefined;
    for (const r of d.reasons) {
      if (r.signal !== undefined && r.rule.startsWith('sensor')) {
        (now ??= new Set()).add(r.signal);
      }
    }
    if (now === undefined) {
      if (this.prevFaults.size > 0) this.prevFaults = new Set();
      return;
    }
    for (const s of now) {
      if (!this.prevFaults.has(s)) {
        this.faultCount++;
        this.faultsBySignal[s] = (this.faultsBySignal[s] ?? 0) + 1;
      }
    }
    this.prevFaults = now;
  }

  finish(extra: { skippedRows: number; skippedByKind: Partial<Record<BadRowKind, number>>; warnings: string[] }): ReplaySummary {
    if (this.prev !== undefined) {
      this.credit(this.prev, this.prevT - this.runStartT);
      this.runStartT = this.prevT;
    }
    const durationMs = this.firstT === undefined ? 0 : this.prevT - this.firstT;
    const s = (ms: number) => round3(ms / 1000);
    const bySeverity = {} as Record<Severity, number>;
    for (const k of SEVERITIES) bySeverity[k] = s(this.timeInSeverityMs[k]);
    const byTier: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.timeInTierMs)) byTier[k] = s(v);
    const minutes = durationMs / 60_000;
    const onFault: ReplaySummary['sensorFaults']['onFault'] = {};
    for (const k of Object.keys(this.faultsBySignal)) {
      const c = faultConsequenceOf(this.policy, k);
      if (c) onFault[k] = c;
    }
    return {
      trace: this.opts.trace,
      policy: this.policy.name,
      samples: this.samples,
      durationS: s(durationMs),
      decisionChanges: this.decisionChanges,
      knobChangesPerMin: minutes > 0 ? round3(this.knobChanges / minutes) : 0,
      timeInSeverityS: bySeverity,
      timeInTierS: byTier,
      timeOffloadedS: s(this.timeByOffloadMs.cloud + this.timeByOffloadMs.pause),
      timeByOffloadS: {
        local: s(this.timeByOffloadMs.local),
        cloud: s(this.timeByOffloadMs.cloud),
        pause: s(this.timeByOffloadMs.pause),
      },
      maxC: { ...this.maxC },
      sensorFaults: { count: this.faultCount, bySignal: { ...this.faultsBySignal }, onFault },
      timeSafeS: s(this.timeSafeMs),
      timeFaultCappedS: s(this.timeFaultCappedMs),
      signalsNotOnDevice: [...(this.opts.signalsNotOnDevice ?? [])],
      strictSignals: this.opts.strictSignals === true,
      finalDecision: this.prev ?? null,
      window: { fromMs: this.opts.fromMs ?? null, toMs: this.opts.toMs ?? null },
      skippedRows: extra.skippedRows,
      skippedByKind: { ...extra.skippedByKind },
      warnings: [...extra.warnings],
    };
  }
}

/** Millisecond-exact seconds without float noise like 12.300000000000001. */
function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
