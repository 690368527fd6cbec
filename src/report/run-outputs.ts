/**
 * The `--report` / `--perfetto` outputs of one run, as a single step sink the replay and
 * simulate commands feed; `close(summary)` writes the report (with the command's own
 * summary) and ends the Perfetto trace. Files are checked up front so a bad path fails
 * before a long run, not after it.
 */
import { accessSync, constants } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Decision } from '../core/decision.js';
import type { Sample } from '../core/signals.js';
import type { Policy } from '../policy/types.js';
import { createPerfettoWriter, type PerfettoWriter } from '../perfetto/index.js';
import { EnvError } from '../util/errors.js';
import { runSimulation, type SimSummary } from '../sim/run.js';
import { checkCells, type CompareJob, type CompareResult } from '../sim/compare.js';
import { criticalSeconds } from '../sim/format.js';
import type { ReportData, ScoreTable } from './build.js';
import { writeReport } from './index.js';
import { TimelineRecorder, type RunTimeline } from './recorder.js';

export interface RunOutputOptions {
  report?: string;
  perfetto?: string;
  kind: ReportData['kind'];
  /** Run label (controller name, trace file). */
  label: string;
  title: string;
  subtitle?: string;
  policy: Policy;
  /** Facts for the Perfetto header (trace, device, scenario …). */
  metadata?: Record<string, string | number | boolean>;
}

export interface RunOutputs {
  step(sample: Sample, decision: Decision, changed: boolean): void;
  /** Writes what was asked for; returns the files written. */
  close(summary?: object): Promise<string[]>;
}

/** Fails now (exit 2) when the file could not be written later. */
export function checkWritable(path: string): void {
  const dir = dirname(resolve(path));
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new EnvError(`${path}: cannot write there (directory ${dir} is missing or not writable)`);
  }
}

/** Undefined when neither output was asked for, so callers add no per-step cost. */
export function openRunOutputs(o: RunOutputOptions): RunOutputs | undefined {
  if (o.report === undefined && o.perfetto === undefined) return undefined;
  if (o.report !== undefined) checkWritable(o.report);
  const recorder = o.report !== undefined ? new TimelineRecorder({ label: o.label }) : undefined;
  const perfetto: PerfettoWriter | undefined =
    o.perfetto !== undefined ? createPerfettoWriter(o.perfetto, { processName: `edgegov ${o.kind} ${o.label}`, metadata: { policy: o.policy.name, ...(o.metadata ?? {}) } }) : undefined;
  let closed = false;
  // A run that fails (a bad row in strict mode) must not leave a truncated trace behind;
  // the command only calls close() on success, so whatever is still open at exit is removed.
  const onExit = () => perfetto?.abort();
  if (perfetto) process.once('exit', onExit);
  return {
    step(sample, decision, changed) {
      recorder?.step(sample, decision, changed);
      perfetto?.step(sample, decision, changed);
    },
    async close(summary) {
      if (closed) return [];
      closed = true;
      process.removeListener('exit', onExit);
      const written: string[] = [];
      if (perfetto) {
        await perfetto.close();
        written.push(o.perfetto!);
      }
      if (recorder) {
        writeReport(o.report!, { title: o.title, subtitle: o.subtitle, kind: o.kind, policy: o.policy, runs: [recorder.finish(summary as Record<string, unknown> | undefined)] });
        written.push(o.report!);
      }
      return written;
    },
  };
}

/** For `compare`: one recorder per run, one report with the runs overlaid and the score table. */
export class CompareReport {
  private readonly runs: RunTimeline[] = [];
  constructor(private readonly path: string, private readonly policy: Policy, private readonly title: string) {
    checkWritable(path);
  }
  /** A recorder for one run; call `add` with its finish() result. */
  recorder(label: string): TimelineRecorder {
    return new TimelineRecorder({ label });
  }
  add(run: RunTimeline): void {
    this.runs.push(run);
  }
  write(scoreTable?: ScoreTable, subtitle?: string): number {
    return writeReport(this.path, { title: this.title, subtitle, kind: 'compare', policy: this.policy, runs: this.runs, scoreTable });
  }
}

/** The simulator's period record (src/sim/run.ts StepRecord), as far as the outputs read it. */
export interface SimStepLike {
  sample: Sample;
  decision: Decision;
  truthC: { soc: number; skin?: number; battery?: number };
  clockScale: number;
  tick: { dtS: number; localTokens: number; cloudTokens: number; energyJ: number };
}

/**
 * What a simulation period adds to the plots beyond what the controller saw: the true
 * temperatures (`true_*_c`, beside the sensed ones), the tokens/s actually produced and the
 * mean power of the period.
 */
export function simulationSample(rec: SimStepLike): Sample {
  const dt = rec.tick.dtS > 0 ? rec.tick.dtS : Number.NaN;
  return {
    ...rec.sample,
    true_soc_c: rec.truthC.soc,
    true_skin_c: rec.truthC.skin,
    true_battery_c: rec.truthC.battery,
    'sim.local_tok_s': rec.tick.localTokens / dt,
    'sim.cloud_tok_s': rec.tick.cloudTokens / dt,
    'sim.power_w': rec.tick.energyJ / dt,
    'sim.clock_scale': rec.clockScale,
  };
}

/**
 * `compare --report`: runs the jobs as `runCompare` does (same simulations, same cells) while
 * recording each run, then writes one report with a section per device × scenario in which
 * the controllers are overlaid, and the score table.
 */
/** What tells controllers apart: true temperatures (what the score counts), charge, memory, output. */
const COMPARE_SIGNALS = new Set(['true_soc_c', 'true_skin_c', 'true_battery_c', 'battery_pct', 'mem_avail_mb', 'psi_mem_some_avg10', 'sim.local_tok_s', 'sim.power_w']);

export function runCompareWithReport(
  jobs: CompareJob[],
  reportPath: string,
  onRun?: (done: number, total: number) => void,
): { result: CompareResult; bytes: number } {
  checkWritable(reportPath);
  const summaries: SimSummary[] = [];
  const timelines: RunTimeline[] = [];
  for (const j of jobs) {
    // Compare reports hold many runs: fewer plot points and listed decisions per run keep the file small.
    const rec = new TimelineRecorder({ label: j.controller, maxDecisions: 1000 });
    const summary = runSimulation({
      device: j.device, scenario: j.scenario, policy: j.policy, controller: j.controller,
      onStep: (step) => rec.step(simulationSample(step), step.decision, false),
    });
    summaries.push(summary);
    timelines.push(rec.finish(summary as unknown as Record<string, unknown>));
    onRun?.(summaries.length, jobs.length);
  }
  const result: CompareResult = { runs: summaries, cells: checkCells(summaries) };
  const groups = new Map<string, { title: string; runs: number[]; policy: Policy }>();
  summaries.forEach((s, i) => {
    const key = `${s.device}\u0000${s.scenario}`;
    const g = groups.get(key) ?? { title: `${s.device} · ${s.scenario}`, runs: [], policy: jobs[i].policy };
    g.runs.push(i);
    groups.set(key, g);
  });
  const scoreTable: ScoreTable = {
    columns: ['device', 'scenario', 'controller', 'QW tokens', 'local tokens', 'cloud tokens', 'max soc °C', 'max skin °C', 's ≥ critical', 'below floor s', 'OOM', 'knob changes', 'energy kJ', 'score'],
    rows: summaries.map((s) => [s.device, s.scenario, s.controller, s.qualityWeightedTokens, s.tokens, s.cloudTokens, s.maxC.soc, s.maxC.skin ?? null,
      criticalSeconds(s), s.belowFloorS, s.oomEvents, s.knobChanges, s.energyJ / 1000, s.score]),
  };
  const cells = result.cells.length ? `; edgegov holds on ${result.cells.filter((c) => c.holds).length}/${result.cells.length} device × scenario cells` : '';
  const bytes = writeReport(reportPath, {
    title: 'edgegov compare', subtitle: `${jobs.length} runs: ${[...new Set(summaries.map((s) => s.controller))].join(', ')}${cells}`,
    kind: 'compare', policy: jobs[0].policy, runs: timelines, groups: [...groups.values()], scoreTable, maxPoints: 1500,
    plotSignal: (name) => COMPARE_SIGNALS.has(name),
  });
  return { result, bytes };
}
