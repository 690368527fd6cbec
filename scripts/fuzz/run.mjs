#!/usr/bin/env node
// The fuzz harness. `runTarget` runs one target in a worker for a time budget and returns its
// figures and any broken contracts; as a script it runs every target and prints one JSON line
// each (npm run fuzz: minutes; the bounded form runs in npm test via test/fuzz/fuzz.test.ts).
//
//   node scripts/fuzz/run.mjs [--seconds 60] [--targets policy,protocol] [--seed N]
//   EDGEGOV_FUZZ_S=60 npm run fuzz
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TARGETS } from './targets.mjs';
import { caseSource } from './cases.mjs';

export const TARGET_NAMES = Object.keys(TARGETS);

/**
 * Runs `target` for `durationMs` (or `maxCases`) in a child process. A case that makes no
 * progress for `hangMs` is a hang: the child is killed and the input reported. A child that
 * passes its `heapMb` heap (an unbounded allocation) or dies otherwise is reported with the input.
 */
export function runTarget(target, { durationMs = 2000, maxCases = 2 ** 31 - 1, seed = 1, caseLimitMs = 1000, hangMs = 5000, heapMb = 384 } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edgegov-fuzz-'));
  const progressFile = path.join(dir, 'progress');
  fs.writeFileSync(progressFile, Buffer.alloc(12));
  const readProgress = () => {
    const b = Buffer.alloc(12);
    const fd = fs.openSync(progressFile, 'r');
    fs.readSync(fd, b, 0, 12, 0);
    fs.closeSync(fd);
    return { cases: b.readInt32LE(0), batch: b.readInt32LE(4), index: b.readInt32LE(8) };
  };
  const inputAt = async ({ batch, index }) => (await caseSource(target, seed)).batch(batch)[index];
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = fork(fileURLToPath(new URL('./child.mjs', import.meta.url)), [JSON.stringify({ target, durationMs, maxCases, seed, caseLimitMs, progressFile })], {
      execArgv: [`--max-old-space-size=${heapMb}`],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    let settled = false;
    let lastCount = -1;
    let lastChange = performance.now();
    const finish = (r) => {
      if (settled) return;
      settled = true;
      clearInterval(watch);
      fs.rmSync(dir, { recursive: true, force: true });
      resolve({ target, ...r, casesPerS: r.cases / Math.max(1e-3, r.durationMs / 1000) });
    };
    const failAt = async (why) => {
      const p = readProgress();
      const input = p.cases > 0 ? await inputAt(p) : '';
      finish({ cases: p.cases, durationMs: performance.now() - t0, failures: [{ input, why }] });
    };
    const watch = setInterval(() => {
      const n = readProgress().cases;
      if (n !== lastCount) {
        lastCount = n;
        lastChange = performance.now();
      } else if (n > 0 && performance.now() - lastChange > hangMs) {
        clearInterval(watch);
        child.kill('SIGKILL');
        void failAt(`hang: no progress for ${hangMs} ms`);
      }
    }, 100);
    let done = false;
    child.on('message', (m) => {
      if (m.type !== 'done') return;
      done = true;
      finish({ cases: m.cases, durationMs: m.durationMs, slowestMs: m.slowestMs, corpus: m.corpus, failures: m.failures });
    });
    child.on('exit', (code, signal) => {
      if (done || settled) return;
      const oom = /heap out of memory|Reached heap limit/.test(stderr);
      void failAt(oom ? `unbounded allocation: the case passed a ${heapMb} MB heap` : `the fuzz process died (${signal ?? `exit ${code}`}): ${stderr.slice(-1000)}`);
    });
  });
}

async function main(argv) {
  const arg = (name, dflt) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : dflt;
  };
  const seconds = Number(arg('seconds', process.env.EDGEGOV_FUZZ_S ?? '60'));
  const targets = String(arg('targets', TARGET_NAMES.join(','))).split(',');
  const seed = Number(arg('seed', String(Date.now() % 1e9)));
  for (const t of targets) if (!TARGETS[t]) {
    process.stderr.write(`fuzz: no target '${t}' (targets: ${TARGET_NAMES.join(', ')})\n`);
    return 1;
  }
  let failed = 0;
  for (const t of targets) {
    const r = await runTarget(t, { durationMs: seconds * 1000, seed });
    failed += r.failures.length;
    process.stdout.write(JSON.stringify({
      target: t, seed, durationS: +(r.durationMs / 1000).toFixed(1), cases: r.cases, casesPerS: Math.round(r.casesPerS),
      corpus: r.corpus, slowestCaseMs: r.slowestMs === undefined ? undefined : +r.slowestMs.toFixed(1), failures: r.failures.length,
      firstFailure: r.failures[0] ? { why: r.failures[0].why.slice(0, 500), input: r.failures[0].input.slice(0, 2000) } : undefined,
    }) + '\n');
  }
  return failed ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
