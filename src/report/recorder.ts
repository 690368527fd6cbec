/**
 * Records a run (replay or simulation) for the HTML report: every sample's signals and the
 * knobs in force, in columns, plus every decision change with its reasons.
 *
 * Columns are typed arrays (Float32 for values — plenty for a plot — and Float64 for time)
 * that grow by doubling, so a 24 h / 10 Hz trace (864 000 samples) costs tens of MB, not
 * the gigabytes of an object per sample. The numbers the report prints (maxima, time in
 * tier and severity) are accumulated here at full precision from every sample, never from
 * the downsampled plot data.
 */
import { sameKnobs, type Decision, type Reason } from '../core/decision.js';
import { SEVERITIES, type Severity } from '../core/severity.js';
import type { Sample } from '../core/signals.js';

/** Knob columns recorded per sample (the decision in force at that sample). */
export const KNOB_COLUMNS = ['tierIndex', 'severityIndex', 'offloadCode', 'contextLength', 'batchSize', 'threads', 'pacingMs'] as const;
export type KnobColumn = (typeof KNOB_COLUMNS)[number];

export const OFFLOAD_CODES = { local: 0, cloud: 1, pause: 2 } as const;

/** A decision change as the report shows it. */
export interface ReportDecision {
  t_ms: number;
  tier: string;
  tierIndex: number;
  severity: Severity;
  offload: string;
  quant: string;
  contextLength: number;
  batchSize: number;
  threads?: number;
  pacingMs: number;
  safe: boolean;
  reasons: Reason[];
}

export interface SignalStats {
  min: number;
  max: number;
  mean: number;
  /** Samples with a reading. */
  count: number;
  /** Samples without one (missing or NaN). */
  missing: number;
}

export interface RunTimeline {
  label: string;
  samples: number;
  t_ms: Float64Array;
  signals: Map<string, Float32Array>;
  knobs: Record<KnobColumn, Float32Array>;
  decisions: ReportDecision[];
  /** Decisions left out of `decisions` because there were more than the cap. */
  decisionsOmitted: number;
  stats: Record<string, SignalStats>;
  timeInTierS: Record<string, number>;
  timeInSeverityS: Record<string, number>;
  timeOffloadedS: number;
  durationS: number;
  /** The command's own summary (replay §8 / simulate §9), shown as given. */
  summary?: Record<string, unknown>;
}

export interface RecorderOptions {
  label: string;
  /** Most decision changes kept with their reasons (the rest are counted). */
  maxDecisions?: number;
}

class Column {
  data: Float32Array;
  constructor(capacity: number, fillFrom = 0) {
    this.data = new Float32Array(capacity);
    this.data.fill(Number.NaN, fillFrom);
  }
  grow(capacity: number): void {
    const next = new Float32Array(capacity);
    next.set(this.data);
    next.fill(Number.NaN, this.data.length);
    this.data = next;
  }
}

export class TimelineRecorder {
  private n = 0;
  private capacity = 4096;
  private t = new Float64Array(this.capacity);
  private readonly signalCols = new Map<string, Column>();
  private readonly knobCols = Object.fromEntries(KNOB_COLUMNS.map((k) => [k, new Column(4096)])) as Record<KnobColumn, Column>;
  private readonly decisions: ReportDecision[] = [];
  private omitted = 0;
  private readonly acc = new Map<string, { min: number; max: number; sum: number; count: number }>();
  private readonly timeInTierMs: Record<string, number> = {};
  private readonly timeInSeverityMs: Record<string, number> = {};
  private offloadedMs = 0;
  private current?: Decision;
  private lastT?: number;
  private firstT?: number;
  private readonly maxDecisions: number;

  constructor(private readonly options: RecorderOptions) {
    this.maxDecisions = options.maxDecisions ?? 50_000;
  }

  step(sample: Sample, decision: Decision, changed: boolean): void {
    const i = this.n;
    if (i === this.capacity) this.growAll();
    const t = sample.t_ms;
    // Time in tier/severity: the interval since the previous sample belongs to the decision then in force.
    if (this.current && this.lastT !== undefined && t > this.lastT) {
      const dt = t - this.lastT;
      const c = this.current;
      this.timeInTierMs[c.tier] = (this.timeInTierMs[c.tier] ?? 0) + dt;
      this.timeInSeverityMs[c.severity] = (this.timeInSeverityMs[c.severity] ?? 0) + dt;
      if (c.offload !== 'local') this.offloadedMs += dt;
    }
    this.firstT ??= t;
    this.lastT = t;
    this.t[i] = t;
    for (const key in sample) {
      if (key === 't_ms') continue;
      const v = sample[key];
      if (v === undefined || !Number.isFinite(v)) continue; // missing stays NaN: a gap, never a zero
      let col = this.signalCols.get(key);
      if (!col) {
        col = new Column(this.capacity);
        this.signalCols.set(key, col);
      }
      col.data[i] = v;
      const a = this.acc.get(key);
      if (a) {
        if (v < a.min) a.min = v;
        if (v > a.max) a.max = v;
        a.sum += v;
        a.count++;
      } else this.acc.set(key, { min: v, max: v, sum: v, count: 1 });
    }
    // Judged with sameKnobs (as the replay summary does), whatever the caller's `changed` says.
    void changed;
    if (this.current === undefined || !sameKnobs(this.current, decision)) {
      if (this.decisions.length < this.maxDecisions) this.decisions.push(toReportDecision(decision));
      else this.omitted++;
    }
    this.current = decision;
    const k = this.knobCols;
    k.tierIndex.data[i] = decision.tierIndex;
    k.severityIndex.data[i] = SEVERITIES.indexOf(decision.severity);
    k.offloadCode.data[i] = OFFLOAD_CODES[decision.offload];
    k.contextLength.data[i] = decision.contextLength;
    k.batchSize.data[i] = decision.batchSize;
    k.threads.data[i] = decision.threads ?? Number.NaN;
    k.pacingMs.data[i] = decision.pacingMs;
    this.n = i + 1;
  }

  private growAll(): void {
    this.capacity *= 2;
    const t = new Float64Array(this.capacity);
    t.set(this.t);
    this.t = t;
    for (const c of this.signalCols.values()) c.grow(this.capacity);
    for (const c of Object.values(this.knobCols)) c.grow(this.capacity);
  }

  finish(summary?: Record<string, unknown>): RunTimeline {
    const n = this.n;
    const stats: Record<string, SignalStats> = {};
    for (const [k, a] of this.acc) stats[k] = { min: a.min, max: a.max, mean: a.sum / a.count, count: a.count, missing: n - a.count };
    const ms2s = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v / 1000]));
    return {
      label: this.options.label,
      samples: n,
      t_ms: this.t.subarray(0, n),
      signals: new Map([...this.signalCols].map(([k, c]) => [k, c.data.subarray(0, n)])),
      knobs: Object.fromEntries(KNOB_COLUMNS.map((k) => [k, this.knobCols[k].data.subarray(0, n)])) as Record<KnobColumn, Float32Array>,
      decisions: this.decisions,
      decisionsOmitted: this.omitted,
      stats,
      timeInTierS: ms2s(this.timeInTierMs),
      timeInSeverityS: ms2s(this.timeInSeverityMs),
      timeOffloadedS: this.offloadedMs / 1000,
      durationS: this.firstT === undefined || this.lastT === undefined ? 0 : (this.lastT - this.firstT) / 1000,
      summary,
    };
  }
}

function toReportDecision(d: Decision): ReportDecision {
  return {
    t_ms: d.t_ms,
    tier: d.tier,
    tierIndex: d.tierIndex,
    severity: d.severity,
    offload: d.offload,
    quant: d.quant,
    contextLength: d.contextLength,
    batchSize: d.batchSize,
    threads: d.threads,
    pacingMs: d.pacingMs,
    safe: d.safe,
    reasons: d.reasons.map((r) => ({ ...r })),
  };
}
