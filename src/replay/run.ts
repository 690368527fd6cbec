/**
 * Replay: a recorded trace through exactly the production core (`step`), sample by sample,
 * into the SPEC §8 summary.
 *
 * Hooks for other tools (report, Perfetto export, `--decisions`):
 * - `onStep(sample, result)` sees EVERY sample inside the window with its step result, in
 *   trace order — what a time-series report or a Perfetto counter track needs.
 * - `onDecision(decision, sample)` sees the first decision of the window and then every
 *   decision change (knobs, severity or safe flag differ) — what `--decisions` writes.
 * Both are called synchronously from the replay loop; a hook that writes files should
 * buffer (e.g. through `createTraceWriter` or its own chunked writer) and flush in
 * `onEnd`, which is awaited once after the last sample.
 *
 * Samples before `fromMs` still go through the core (not counted) so the estimator's history
 * and the dwell timers are exactly what a full replay would have at that instant: a window
 * shows the same decisions as the full replay, only cut.
 *
 * A signal the trace never carries (no column, not named by a `# signals:` header comment, no
 * zone a virtual sensor could be built from) is not on the recorded device: the core runs the
 * policy as it applies there (`policyOnDevice`, src/core/on-device.ts), so a phone recorded
 * without a skin thermistor is not a phone whose skin sensor failed. A column that exists but
 * has no value is still a fault. `strictSignals` restores "every signal is on the device".
 */
import type { Policy } from '../policy/types.js';
import type { Sample } from '../core/signals.js';
import type { Decision } from '../core/decision.js';
import { faultFloorInForce, initialState, step, type GovernorState, type StepResult } from '../core/governor.js';
import { policyOnDevice, signalsNotCarried } from '../core/on-device.js';
import { readTrace, type ReadMode, type TraceReadStats } from '../trace/reader.js';
import { SummaryAccumulator, type ReplaySummary } from './summary.js';

export interface ReplayHooks {
  onStep?: (sample: Sample, result: StepResult) => void;
  onDecision?: (decision: Decision, sample: Sample) => void;
  /** Bytes of the trace consumed so far, and the file size; called once per chunk. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  onWarning?: (message: string) => void;
  /** Awaited after the last sample (before the summary is returned). */
  onEnd?: () => Promise<void> | void;
}

export interface ReplayOptions extends ReplayHooks {
  policy: Policy;
  mode?: ReadMode;
  fromMs?: number;
  toMs?: number;
  /**
   * Every signal the policy reads is taken to be on the device, so one the trace never carries
   * is a sensor fault with its `onFault` consequence (the behaviour before absence was known).
   */
  strictSignals?: boolean;
}

export async function replayTrace(tracePath: string, opts: ReplayOptions): Promise<ReplaySummary> {
  const stream = readTrace(tracePath, { mode: opts.mode ?? 'strict', onWarning: opts.onWarning });
  const run = new ReplayRun(opts.policy, tracePath, opts);
  for await (const batch of stream) {
    run.columns(stream.stats.columns, stream.stats.declaredSignals);
    if (!run.feed(batch)) break;
    opts.onProgress?.(stream.stats.bytesRead, stream.stats.totalBytes);
  }
  // A trace with a header and no rows yields no batch: the summary still says what it lacks.
  run.columns(stream.stats.columns, stream.stats.declaredSignals);
  await opts.onEnd?.();
  return run.finish(stream.stats);
}

/**
 * Replays in-memory samples (tests, simulator output, the live-vs-replay identity check).
 * Same code path as `replayTrace` minus the file.
 */
export function replaySamples(samples: Iterable<Sample>, opts: ReplayOptions & { trace?: string }): ReplaySummary {
  const run = new ReplayRun(opts.policy, opts.trace ?? '<samples>', opts);
  const batch: Sample[] = [];
  const cols = new Set<string>();
  for (const s of samples) {
    for (const k of Object.keys(s)) cols.add(k);
    batch.push(s);
  }
  run.columns([...cols], undefined);
  run.feed(batch);
  return run.finish({ skippedRows: 0, skippedByKind: {}, warnings: [] });
}

class ReplayRun {
  /** The policy as it applies to the recorded device (set with the first columns). */
  private policy!: Policy;
  private state!: GovernorState;
  private acc!: SummaryAccumulator;
  private notOnDevice: ReadonlySet<string> = new Set();
  private declared: readonly string[] = [];
  /** Warnings of the replay itself (the reader's are in its stats). */
  private readonly lateWarnings: string[] = [];
  private readonly warnedLate = new Set<string>();
  private knownColumnCount = -1;
  private readonly fromMs: number;
  private readonly toMs: number;
  private firstMs: number | undefined;
  private lastMs: number | undefined;
  private inWindow = 0;

  constructor(private readonly given: Policy, private readonly trace: string, private readonly hooks: ReplayOptions) {
    this.fromMs = hooks.fromMs ?? -Infinity;
    this.toMs = hooks.toMs ?? Infinity;
  }

  /**
   * The trace's columns (they may grow for JSONL) and header-declared signals; cheap when
   * unchanged. The first call decides which signals are not on the device.
   */
  columns(cols: readonly string[], declared: readonly string[] | undefined): void {
    if (cols.length === this.knownColumnCount) return;
    if (this.knownColumnCount < 0) this.begin(cols, declared);
    else this.lateColumns(cols);
    this.knownColumnCount = cols.length;
    this.acc.columns(cols);
  }

  private begin(cols: readonly string[], declared: readonly string[] | undefined): void {
    this.declared = declared ?? [];
    const absent = this.hooks.strictSignals ? [] : signalsNotCarried(this.given, [...cols, ...this.declared]);
    this.notOnDevice = new Set(absent);
    const critical = this.given.sensors.filter((x) => x.critical).map((x) => x.name);
    if (critical.length > 0 && critical.every((n) => this.notOnDevice.has(n))) {
      // Not a fault either, but nothing the policy calls critical can bind: worth saying.
      this.warn(`${this.trace}: the trace carries none of the policy's critical sensors (${critical.join(', ')}): their limits cannot apply to this replay`);
    }
    this.policy = policyOnDevice(this.given, absent);
    this.state = initialState(this.policy);
    this.acc = new SummaryAccumulator(this.policy, {
      trace: this.trace, fromMs: this.hooks.fromMs, toMs: this.hooks.toMs,
      signalsNotOnDevice: absent, strictSignals: this.hooks.strictSignals === true,
    });
  }

  /** JSONL keys first seen after absence was decided: a signal they would have carried is said once, not read. */
  private lateColumns(cols: readonly string[]): void {
    if (this.notOnDevice.size === 0) return;
    const still = new Set(signalsNotCarried(this.given, [...cols, ...this.declared]));
    for (const name of this.notOnDevice) {
      if (still.has(name) || this.warnedLate.has(name)) continue;
      this.warnedLate.add(name);
      this.warn(`${this.trace}: ${name} first appears after replay began; it was taken as not on this device and is not read (name it in a '# signals:' header comment, or use --strict-signals)`);
    }
  }

  private warn(m: string): void {
    this.lateWarnings.push(m);
    this.hooks.onWarning?.(m);
  }

  /** Steps the core over a batch; false once the window's end has been passed (stop reading). */
  feed(batch: readonly Sample[]): boolean {
    const { policy, fromMs, toMs, acc } = this;
    const { onStep, onDecision } = this.hooks;
    let state = this.state;
    try {
      for (let i = 0; i < batch.length; i++) {
        const sample = batch[i];
        this.firstMs ??= sample.t_ms;
        this.lastMs = sample.t_ms;
        if (sample.t_ms > toMs) return false;
        const result = step(state, sample, policy);
        state = result.state;
        if (sample.t_ms < fromMs) continue;
        this.inWindow++;
        if (acc.add(sample, result.decision, faultFloorInForce(state))) onDecision?.(result.decision, sample);
        onStep?.(sample, result);
      }
      return true;
    } finally {
      this.state = state;
    }
  }

  finish(given: Pick<TraceReadStats, 'skippedRows' | 'skippedByKind' | 'warnings'>): ReplaySummary {
    if (this.knownColumnCount < 0) this.begin([], undefined);
    const stats = this.lateWarnings.length === 0 ? given : { ...given, warnings: [...given.warnings, ...this.lateWarnings] };
    // An empty window is almost always a mistyped --from/--to (seconds vs minutes): say where
    // the trace is instead of printing a summary of nothing as if it were a result.
    const windowed = this.hooks.fromMs !== undefined || this.hooks.toMs !== undefined;
    if (windowed && this.inWindow === 0 && this.firstMs !== undefined) {
      const s = (ms: number) => `${Math.round(ms) / 1000} s`;
      const m = `no samples in the window ${s(this.hooks.fromMs ?? 0)}–${this.hooks.toMs === undefined ? 'end' : s(this.hooks.toMs)}: the trace ${this.lastMs! > (this.hooks.toMs ?? Infinity) ? `starts at ${s(this.firstMs)}` : `runs from ${s(this.firstMs)} to ${s(this.lastMs!)}`} (--from/--to: a bare number is seconds)`;
      this.hooks.onWarning?.(m);
      return this.acc.finish({ ...stats, warnings: [...stats.warnings, m] });
    }
    return this.acc.finish(stats);
  }
}
