/**
 * Governor timelines as Chrome trace-event JSON (the "JSON trace format" that
 * ui.perfetto.dev and chrome://tracing open): the object form
 * `{ displayTimeUnit, otherData, traceEvents: [...] }`, timestamps in µs.
 *
 * Layout, so a tester finds things where Android developers expect them:
 * - one process per run (`edgegov replay <trace>` / `edgegov simulate …`);
 * - a counter track per signal present (`ph: 'C'`, named after the signal, the arg key is
 *   its unit) and per knob (`knob.batchSize`, …);
 * - slices (`ph: 'X'`) on the `tier`, `severity` and `offload` threads: one per residency;
 * - an instant event (`ph: 'i'`, process scope) per decision change, its reasons as args.
 *
 * Events stream out through a sink in one pass: a 24 h trace must not be held in memory.
 * Counters are written only when the value changes — a counter holds its value until the
 * next event, so repeats carry no information and would multiply the file size.
 */
import { sameKnobs, type Decision } from '../core/decision.js';
import { SEVERITIES } from '../core/severity.js';
import { unitOfSignal, type Sample } from '../core/signals.js';

/** One trace event; the fields the format defines (args free-form). */
export interface TraceEvent {
  name: string;
  ph: 'C' | 'X' | 'i' | 'M' | 'B' | 'E';
  ts?: number;
  dur?: number;
  pid: number;
  tid?: number;
  s?: 'g' | 'p' | 't';
  cat?: string;
  args?: Record<string, unknown>;
}

export interface TimelineOptions {
  /** Process name shown in Perfetto, e.g. `edgegov replay trace.csv`. */
  processName: string;
  /** Trace-wide facts for `otherData` (policy, trace file, controller …). */
  metadata?: Record<string, string | number | boolean>;
  pid?: number;
}

/** Thread ids of the slice tracks; fixed so tests and users can rely on them. */
export const TRACKS = { decisions: 1, tier: 2, severity: 3, offload: 4 } as const;

const OFFLOAD_CODE = { local: 0, cloud: 1, pause: 2 } as const;

/** The numeric knobs of a decision, as counter tracks. Offload and severity as codes (see names). */
export function knobValues(d: Decision): Record<string, number | undefined> {
  return {
    'knob.tierIndex': d.tierIndex,
    'knob.contextLength': d.contextLength,
    'knob.batchSize': d.batchSize,
    'knob.threads': d.threads,
    'knob.pacingMs': d.pacingMs,
    'knob.offload(0=local,1=cloud,2=pause)': OFFLOAD_CODE[d.offload],
    'knob.severity(0=none..6=shutdown)': SEVERITIES.indexOf(d.severity),
  };
}

const msToUs = (ms: number): number => Math.round(ms * 1000);

/** An open residency slice: the value held and since when. */
interface OpenSlice {
  value: string;
  startMs: number;
  args?: Record<string, unknown>;
}

/**
 * Turns (sample, decision) steps into trace events, in time order per track.
 * `emit` receives each event once; `finish()` closes the open slices at the last time seen.
 */
export class TimelineEventBuilder {
  private readonly pid: number;
  private readonly lastCounter = new Map<string, number>();
  private readonly counterTracks = new Set<string>();
  private readonly open = new Map<number, OpenSlice>();
  private lastDecision?: Decision;
  private lastMs = 0;
  private started = false;
  /** Decision changes seen (instants written = this + 1 for the initial decision, marked `initial`). */
  decisionChanges = 0;

  constructor(
    private readonly options: TimelineOptions,
    private readonly emit: (e: TraceEvent) => void,
  ) {
    this.pid = options.pid ?? 1;
  }

  /** Metadata events: process and thread names, and track order. */
  private begin(): void {
    this.started = true;
    const pid = this.pid;
    // ts on metadata too: some importers sort every event by it.
    this.emit({ name: 'process_name', ph: 'M', ts: 0, pid, args: { name: this.options.processName } });
    for (const [thread, tid] of Object.entries(TRACKS)) {
      this.emit({ name: 'thread_name', ph: 'M', ts: 0, pid, tid, args: { name: thread } });
      this.emit({ name: 'thread_sort_index', ph: 'M', ts: 0, pid, tid, args: { sort_index: tid } });
    }
  }

  /** The counter tracks written so far (signal and knob names). */
  get counterNames(): string[] {
    return [...this.counterTracks];
  }

  step(sample: Sample, decision: Decision, changed: boolean): void {
    if (!this.started) this.begin();
    const tMs = sample.t_ms;
    this.lastMs = Math.max(this.lastMs, tMs, decision.t_ms);
    const ts = msToUs(tMs);
    for (const key of Object.keys(sample)) {
      if (key === 't_ms') continue;
      const v = sample[key];
      // Missing readings stay missing: no event, rather than a fake zero on the track.
      if (v === undefined || !Number.isFinite(v)) continue;
      this.counter(key, unitOfSignal(key) ?? 'value', v, ts);
    }
    const first = this.lastDecision === undefined;
    // Changes are judged here with sameKnobs (as the replay summary does), so the instants
    // match `decisionChanges` whatever the caller's notion of `changed`.
    void changed;
    if (first || !sameKnobs(this.lastDecision!, decision)) {
      const dts = msToUs(decision.t_ms);
      for (const [k, v] of Object.entries(knobValues(decision))) {
        if (v !== undefined) this.counter(k, 'value', v, dts);
      }
      // Each slice keeps why it was entered, so clicking it in Perfetto answers "why here?".
      const why = decision.reasons.map((r) => r.message).join('; ');
      this.slice(TRACKS.tier, decision.tier, decision.t_ms, { quant: decision.quant, contextLength: decision.contextLength, batchSize: decision.batchSize, why });
      this.slice(TRACKS.severity, decision.severity, decision.t_ms, { why });
      this.slice(TRACKS.offload, decision.offload, decision.t_ms, { why });
      this.instant(decision, this.lastDecision);
      if (!first) this.decisionChanges++;
    }
    this.lastDecision = decision;
  }

  /** Closes the slices still open at the last time seen. Call once at the end. */
  finish(): void {
    for (const tid of [...this.open.keys()]) this.closeSlice(tid, this.lastMs);
  }

  private counter(name: string, unit: string, value: number, ts: number): void {
    if (this.lastCounter.get(name) === value) return;
    this.lastCounter.set(name, value);
    this.counterTracks.add(name);
    this.emit({ name, ph: 'C', ts, pid: this.pid, args: { [unit]: value } });
  }

  private slice(tid: number, value: string, tMs: number, args?: Record<string, unknown>): void {
    const cur = this.open.get(tid);
    if (cur && cur.value === value) return;
    if (cur) this.closeSlice(tid, tMs);
    this.open.set(tid, { value, startMs: tMs, args });
  }

  private closeSlice(tid: number, endMs: number): void {
    const cur = this.open.get(tid);
    if (!cur) return;
    this.open.delete(tid);
    const ts = msToUs(cur.startMs);
    const e: TraceEvent = { name: cur.value, ph: 'X', ts, dur: Math.max(0, msToUs(endMs) - ts), pid: this.pid, tid, cat: trackName(tid) };
    if (cur.args) e.args = cur.args;
    this.emit(e);
  }

  private instant(d: Decision, prev: Decision | undefined): void {
    const name = prev === undefined ? `start: ${d.tier}` : describeChange(prev, d);
    this.emit({
      name,
      ph: 'i',
      s: 'p',
      ts: msToUs(d.t_ms),
      pid: this.pid,
      tid: TRACKS.decisions,
      cat: 'decision',
      args: {
        ...(prev === undefined ? { initial: true } : {}),
        severity: d.severity,
        tier: d.tier,
        quant: d.quant,
        contextLength: d.contextLength,
        batchSize: d.batchSize,
        offload: d.offload,
        safe: d.safe,
        why: d.reasons.map((r) => r.message).join('; '),
        reasons: d.reasons.map((r) => ({ ...r })),
      },
    });
  }
}

function trackName(tid: number): string {
  return Object.entries(TRACKS).find(([, id]) => id === tid)?.[0] ?? 'track';
}

/** A short label for the change, e.g. `balanced→lean (moderate)`. */
export function describeChange(prev: Decision, d: Decision): string {
  const parts: string[] = [];
  if (prev.tier !== d.tier) parts.push(`${prev.tier}→${d.tier}`);
  if (prev.severity !== d.severity) parts.push(`severity ${prev.severity}→${d.severity}`);
  if (prev.offload !== d.offload) parts.push(`offload ${prev.offload}→${d.offload}`);
  if (parts.length === 0) parts.push(`knobs of ${d.tier}`);
  return parts.join(', ');
}
