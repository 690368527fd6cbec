// One fuzz target in a child process (a heap cap of its own: an unbounded allocation kills only
// this process). Before every case it writes (cases, batch, index) to a progress file with one
// pwrite, so the parent can tell a hang and rebuild the input from the deterministic sequence.
import fs from 'node:fs';
import { Violation } from './targets.mjs';
import { caseSource } from './cases.mjs';

const { target, durationMs, maxCases, seed, caseLimitMs, progressFile } = JSON.parse(process.argv[2]);
const src = await caseSource(target, seed);
const fd = fs.openSync(progressFile, 'r+');
const progress = new Int32Array(3);
const progressBytes = new Uint8Array(progress.buffer);
const failures = [];
let cases = 0;
let slowest = 0;
const t0 = performance.now();

const record = (input, why) => void (failures.length < 20 && failures.push({ input, why }));

outer: for (let b = 0; performance.now() - t0 < durationMs && cases < maxCases; b++) {
  const inputs = src.batch(b);
  for (let i = 0; i < inputs.length; i++) {
    if (cases >= maxCases) break outer;
    const input = inputs[i];
    progress[0] = cases + 1;
    progress[1] = b;
    progress[2] = i;
    fs.writeSync(fd, progressBytes, 0, 12, 0);
    const c0 = performance.now();
    try {
      src.target.run(input);
    } catch (err) {
      record(input, err instanceof Violation ? err.message : `uncaught ${err?.name ?? typeof err}: ${err?.stack ?? String(err)}`);
    }
    const took = performance.now() - c0;
    if (took > slowest) slowest = took;
    if (took > caseLimitMs) record(input, `slow: one case took ${took.toFixed(0)} ms (limit ${caseLimitMs} ms)`);
    cases++;
  }
}
process.send({ type: 'done', cases, durationMs: performance.now() - t0, slowestMs: slowest, failures, corpus: src.corpus.length }, () => process.exit(0));
