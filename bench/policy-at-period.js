// A policy file rewritten for another sample rate, for the benches' like-for-like runs at 10 Hz
// (both the current build's and the baseline's policies/default.yaml are written for 2 Hz).
import { readFileSync, writeFileSync } from 'node:fs';
import { parseDocument } from 'yaml';

/**
 * Writes `file`'s policy rewritten for `periodMs` samples to `out`: control.samplePeriod, and a
 * sample-count `stuckSamples` (the baseline's) scaled to keep its duration. For like-for-like
 * runs at a rate other than the policy's own.
 */
export function writePolicyAtPeriod(file, periodMs, out) {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  const old = doc.getIn(['control', 'samplePeriod']) ?? '500ms'; // the compiler's default
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s)$/.exec(String(old));
  if (!m) throw new Error(`${file}: control.samplePeriod ${JSON.stringify(old)} is not a duration in ms or s`);
  const fromMs = Number(m[1]) * (m[2] === 's' ? 1000 : 1);
  doc.setIn(['control', 'samplePeriod'], `${periodMs}ms`);
  const stuckSamples = doc.getIn(['control', 'stuckSamples']);
  if (typeof stuckSamples === 'number') doc.setIn(['control', 'stuckSamples'], Math.round((stuckSamples * fromMs) / periodMs));
  writeFileSync(out, doc.toString());
  return out;
}
