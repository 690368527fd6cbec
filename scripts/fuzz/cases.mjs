// The deterministic case sequence of a run: batch 0 is the corpus itself (the seeds must keep
// the contract too), batch b > 0 is 100 mutations drawn with seed + b. Deterministic, so the
// parent can rebuild the input a child was on when it hung or died from (batch, index) alone.
import fc from 'fast-check';
import { SELFTEST_TARGETS, TARGETS } from './targets.mjs';
import { mutatedFrom } from './mutate.mjs';

export const BATCH = 100;

export async function caseSource(target, seed) {
  const t = TARGETS[target] ?? SELFTEST_TARGETS[target];
  if (!t) throw new Error(`no fuzz target '${target}'`);
  const corpus = await t.corpus();
  const arb = mutatedFrom(corpus);
  return {
    target: t,
    corpus,
    batch: (b) => (b === 0 ? corpus : fc.sample(arb, { numRuns: BATCH, seed: seed + b })),
  };
}
