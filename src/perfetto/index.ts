/**
 * `--perfetto <file>`: streams a run's timeline to a Chrome trace-event JSON file while the
 * run goes on, so memory stays flat however long the trace is.
 */
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import type { Decision } from '../core/decision.js';
import type { Sample } from '../core/signals.js';
import { envErrorFrom } from '../util/errors.js';
import { TimelineEventBuilder, type TimelineOptions, type TraceEvent } from './trace-events.js';

export { TimelineEventBuilder, TRACKS, knobValues, describeChange } from './trace-events.js';
export type { TraceEvent, TimelineOptions } from './trace-events.js';

export interface PerfettoWriter {
  step(sample: Sample, decision: Decision, changed: boolean): void;
  /** Closes open slices and the JSON document; returns how many events were written. */
  close(): Promise<{ events: number; decisionChanges: number; counterTracks: string[] }>;
  /** The run failed: close and delete the unfinished file (synchronous, safe in an exit handler). */
  abort(): void;
}

/** Bytes gathered before one write: few syscalls, bounded memory. */
const FLUSH_BYTES = 1 << 20;

export function createPerfettoWriter(path: string, options: TimelineOptions): PerfettoWriter {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (err) {
    throw envErrorFrom(err, path);
  }
  let buffered: string[] = [];
  let bufferedBytes = 0;
  let events = 0;
  const write = (text: string): void => {
    buffered.push(text);
    bufferedBytes += text.length;
    if (bufferedBytes >= FLUSH_BYTES) flush();
  };
  const flush = (): void => {
    if (buffered.length === 0) return;
    writeSync(fd, buffered.join(''));
    buffered = [];
    bufferedBytes = 0;
  };
  const header = {
    displayTimeUnit: 'ms',
    otherData: { generator: 'edgegov', ...(options.metadata ?? {}) },
  };
  // The object form, with traceEvents last so events can stream in.
  write(JSON.stringify(header).slice(0, -1) + ',"traceEvents":[\n');
  const builder = new TimelineEventBuilder(options, (e: TraceEvent) => {
    write((events === 0 ? '' : ',\n') + JSON.stringify(e));
    events++;
  });
  let closed = false;
  return {
    step: (sample, decision, changed) => builder.step(sample, decision, changed),
    async close() {
      if (!closed) {
        closed = true;
        builder.finish();
        write('\n]}\n');
        flush();
        closeSync(fd);
      }
      return { events, decisionChanges: builder.decisionChanges, counterTracks: builder.counterNames };
    },
    abort() {
      if (closed) return;
      closed = true;
      try {
        closeSync(fd);
        unlinkSync(path);
      } catch {
        /* already gone: nothing to clean */
      }
    },
  };
}
