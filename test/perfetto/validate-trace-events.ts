/**
 * A structural validator for Chrome trace-event JSON (object form), after the Trace Event
 * Format document: required fields per phase, numeric µs timestamps, non-decreasing time
 * per track, matched B/E pairs. Returns problems as strings; empty = valid.
 */
export interface TraceDoc {
  traceEvents: Record<string, unknown>[];
  displayTimeUnit?: string;
  [k: string]: unknown;
}

const PHASES = new Set(['B', 'E', 'X', 'i', 'I', 'C', 'M', 'b', 'e', 'n', 's', 't', 'f', 'P', 'O', 'N', 'D']);

export function validateTraceDoc(doc: unknown): string[] {
  const problems: string[] = [];
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return ['top level must be an object (the object form)'];
  const d = doc as TraceDoc;
  if (!Array.isArray(d.traceEvents)) return ['traceEvents must be an array'];
  if (d.displayTimeUnit !== undefined && d.displayTimeUnit !== 'ms' && d.displayTimeUnit !== 'ns') {
    problems.push(`displayTimeUnit must be "ms" or "ns", got ${JSON.stringify(d.displayTimeUnit)}`);
  }
  const lastTs = new Map<string, number>();
  const openB = new Map<string, string[]>();
  d.traceEvents.forEach((e, i) => {
    const at = `traceEvents[${i}]`;
    if (typeof e !== 'object' || e === null) return problems.push(`${at}: not an object`);
    const ph = e.ph;
    if (typeof ph !== 'string' || !PHASES.has(ph)) return problems.push(`${at}: unknown ph ${JSON.stringify(ph)}`);
    if (typeof e.name !== 'string' || e.name === '') problems.push(`${at}: name must be a non-empty string`);
    if (!Number.isInteger(e.pid)) problems.push(`${at}: pid must be an integer`);
    if (e.tid !== undefined && !Number.isInteger(e.tid)) problems.push(`${at}: tid must be an integer`);
    if (e.args !== undefined && (typeof e.args !== 'object' || e.args === null || Array.isArray(e.args))) problems.push(`${at}: args must be an object`);
    if (ph === 'M') {
      if (!['process_name', 'thread_name', 'process_sort_index', 'thread_sort_index', 'process_labels'].includes(e.name as string)) {
        problems.push(`${at}: unknown metadata event ${String(e.name)}`);
      }
      if (typeof e.args !== 'object') problems.push(`${at}: metadata needs args`);
      return;
    }
    if (typeof e.ts !== 'number' || !Number.isFinite(e.ts) || e.ts < 0) return problems.push(`${at}: ts must be a finite non-negative number of µs`);
    const ts = e.ts;
    if (ph === 'X') {
      if (typeof e.dur !== 'number' || !Number.isFinite(e.dur) || e.dur < 0) problems.push(`${at}: X needs a non-negative dur`);
    }
    if (ph === 'C') {
      const args = e.args as Record<string, unknown> | undefined;
      if (!args || Object.keys(args).length === 0) problems.push(`${at}: counter needs args`);
      else for (const [k, v] of Object.entries(args)) if (typeof v !== 'number' || !Number.isFinite(v)) problems.push(`${at}: counter arg ${k} must be a finite number`);
    }
    if (ph === 'i' || ph === 'I') {
      if (e.s !== undefined && !['g', 'p', 't'].includes(e.s as string)) problems.push(`${at}: instant scope s must be g, p or t`);
    }
    // Tracks: counters are keyed by pid + name; slices and instants by pid + tid (+ scope).
    const track = ph === 'C' ? `C:${e.pid}:${e.name}` : ph === 'i' || ph === 'I' ? `i:${e.pid}:${e.s ?? 't'}:${e.tid ?? ''}` : `T:${e.pid}:${e.tid ?? ''}`;
    const prev = lastTs.get(track);
    if (prev !== undefined && ts < prev) problems.push(`${at}: ts ${ts} goes back in time on track ${track} (previous ${prev})`);
    lastTs.set(track, ts);
    if (ph === 'B') {
      const stack = openB.get(track) ?? [];
      stack.push(e.name as string);
      openB.set(track, stack);
    } else if (ph === 'E') {
      const stack = openB.get(track) ?? [];
      if (stack.length === 0) problems.push(`${at}: E without a matching B on ${track}`);
      else stack.pop();
    }
  });
  for (const [track, stack] of openB) if (stack.length > 0) problems.push(`${track}: ${stack.length} B event(s) never ended`);
  return problems;
}
