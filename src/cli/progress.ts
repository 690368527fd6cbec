/**
 * A one-line progress bar on stderr for long commands (replay, simulate, compare).
 *
 * It only ever draws on a terminal: piped output and `--json` runs must stay byte-clean for
 * the tools reading them, so when disabled the returned object does nothing at all.
 * Redraws are throttled (default 10 per second) because a replay calls `update` millions of
 * times and terminal writes are far slower than the governor core.
 */

/** The part of a stream we need; `process.stderr` fits, and so does a test fake. */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Units of work in all (samples, simulated ms, runs). 0, negative or non-finite = unknown: no bar, a count. */
  total: number;
  /** Shown before the bar, e.g. `replay` or `compare`. */
  label: string;
  /** False to silence it (pass `!argv.json`). Even when true nothing is drawn unless the stream is a TTY. */
  enabled?: boolean;
  /** Defaults to `process.stderr`. */
  stream?: ProgressStream;
  /** Clock in ms; injectable so tests need not sleep. */
  now?: () => number;
  /** Least time between two redraws. */
  minIntervalMs?: number;
}

export interface Progress {
  /** Report how many units are done so far (absolute, not a delta). Cheap when throttled. */
  update(done: number): void;
  /** Erase the bar, leaving the line clean for whatever prints next. Idempotent. */
  done(): void;
}

const NOOP: Progress = Object.freeze({ update() {}, done() {} });

/** ESC [ K: erase from the cursor to the end of the line, so a shorter redraw leaves no tail. */
const ERASE_LINE = '\r\x1b[K';

export function progressEnabled(opts: { json?: boolean } = {}, stream: ProgressStream = process.stderr): boolean {
  return !opts.json && stream.isTTY === true;
}

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.enabled === false || stream.isTTY !== true) return NOOP;

  const now = options.now ?? (() => performance.now());
  const minIntervalMs = options.minIntervalMs ?? 100;
  const total = Number.isFinite(options.total) && options.total > 0 ? options.total : 0;
  const startedMs = now();
  let lastDrawMs = -Infinity;
  let finished = false;

  const draw = (doneUnits: number, atMs: number): void => {
    lastDrawMs = atMs;
    // A pseudo-terminal may report 0 columns (no size set): assume 80 rather than draw nothing.
    stream.write(ERASE_LINE + renderLine(options.label, doneUnits, total, atMs - startedMs, stream.columns || 80));
  };

  return {
    update(doneUnits: number) {
      if (finished) return;
      const t = now();
      if (t - lastDrawMs < minIntervalMs) return;
      draw(doneUnits, t);
    },
    done() {
      if (finished) return;
      finished = true;
      // Only erase when something was drawn: a run too short to draw leaves the terminal untouched.
      if (lastDrawMs !== -Infinity) stream.write(ERASE_LINE);
    },
  };
}

/** The text of one redraw (no control characters), fitted to `columns`. Exported for tests. */
export function renderLine(label: string, doneUnits: number, total: number, elapsedMs: number, columns: number): string {
  const done = Math.max(0, doneUnits);
  if (total <= 0) {
    const rate = elapsedMs > 0 ? (done / elapsedMs) * 1000 : 0;
    return fit(`${label} ${formatCount(done)} (${formatCount(rate)}/s, ${formatDuration(elapsedMs)})`, columns);
  }
  const fraction = Math.min(1, done / total);
  const pct = `${Math.floor(fraction * 100)}%`.padStart(4);
  const etaMs = fraction > 0 ? (elapsedMs / fraction) * (1 - fraction) : NaN;
  const tail = ` ${pct} ${formatCount(done)}/${formatCount(total)} eta ${Number.isFinite(etaMs) ? formatDuration(etaMs) : '?'}`;
  // Leave one spare column: writing into the last one makes some terminals wrap.
  const barWidth = Math.max(0, Math.min(40, columns - 1 - label.length - tail.length - 3));
  if (barWidth < 5) return fit(`${label}${tail}`, columns);
  const filled = Math.round(fraction * barWidth);
  return `${label} [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]${tail}`;
}

function fit(text: string, columns: number): string {
  return text.length < columns ? text : text.slice(0, Math.max(0, columns - 1));
}

function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  return String(Math.round(n));
}

function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
