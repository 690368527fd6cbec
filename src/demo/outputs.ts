/**
 * The demo's files: the recorded trace (the daemon's samples as a SPEC §4 CSV, replayable with
 * `edgegov replay`), the HTML report (the existing report of that trace, with the engine's
 * measured tok/s and the requests' first-token and total latencies added as series), and
 * `summary.json`.
 */
import type { Decision } from '../core/decision.js';
import type { Sample } from '../core/signals.js';
import type { Policy } from '../policy/types.js';
import { createTraceWriter } from '../trace/writer.js';
import { TimelineRecorder, writeReport } from '../report/index.js';
import { isStopLine, type JournalLine } from './analyse.js';
import type { DemoRequestRecord } from './load.js';

export async function writeTrace(path: string, lines: JournalLine[], comments: string[]): Promise<number> {
  const run = lines.filter((l) => !isStopLine(l));
  const cols = new Set<string>();
  for (const l of run) for (const k of Object.keys(l.signals)) if (k !== 't_ms') cols.add(k);
  const w = createTraceWriter(path, ['t_ms', ...[...cols].sort()], { comments });
  for (const l of run) w.write(l.signals as Sample);
  await w.close();
  return run.length;
}

/**
 * Request measurements as step series on the trace's time axis: each sample carries the
 * latest answer's figures (held until the next answer ends), so the charts read "what the
 * user got lately".
 */
export function writeDemoReport(path: string, o: {
  lines: JournalLine[]; records: DemoRequestRecord[]; policy: Policy; title: string; subtitle: string; summary: Record<string, unknown>;
}): number {
  const run = o.lines.filter((l) => !isStopLine(l));
  const rec = new TimelineRecorder({ label: 'demo' });
  const byEnd = [...o.records].sort((a, b) => a.endedAt - b.endedAt);
  let j = 0;
  let localTokS: number | undefined, engineTokS: number | undefined, ttft: number | undefined, totalMs: number | undefined, cloudTtft: number | undefined;
  for (const l of run) {
    const wall = Date.parse(l.ts);
    while (j < byEnd.length && byEnd[j].endedAt <= wall) {
      const r = byEnd[j++];
      if (r.error) continue;
      if (r.route === 'local' && r.status === 200) {
        if (r.tokS !== undefined) localTokS = r.tokS;
        if (r.engineTokS !== undefined) engineTokS = r.engineTokS;
        if (r.firstTokenMs !== undefined) ttft = r.firstTokenMs;
        totalMs = r.totalMs;
      } else if (r.route === 'cloud' && r.status === 200) {
        if (r.firstTokenMs !== undefined) cloudTtft = r.firstTokenMs;
      }
    }
    const sample = {
      ...l.signals,
      'engine.measured_tok_s': localTokS,
      'engine.decode_tok_s': engineTokS,
      'request.first_token_ms': ttft,
      'request.total_ms': totalMs,
      'cloud.first_token_ms': cloudTtft,
    } as unknown as Sample;
    rec.step(sample, l.decision as Decision, l.changed);
  }
  return writeReport(path, { title: o.title, subtitle: o.subtitle, kind: 'replay', policy: o.policy, runs: [rec.finish(o.summary)] });
}
