// Child for lifecycle.test.ts and the arm64 check (scripts/arm64/run.mjs): the addon loaded in
// Worker threads that are torn down with live readers and armed PSI watchers (half of them
// terminate()d mid-flight), then the process exits with a watcher thread still running, so the
// env cleanup hook path runs. A double free or a thread left in a dead isolate shows as a
// non-zero exit or a signal. Prints one JSON line.
//   argv: <addon .node file> <fixture tree> [rounds]
const fs = require('fs');
const path = require('path');
const { Worker } = require('worker_threads');

const [addonPath, fixture, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg ?? 5);
const addon = require(addonPath);
const fdCount = () => fs.readdirSync('/proc/self/fd').length;
const thermal = path.join(fixture, 'sys/class/thermal');
const zones = fs.readdirSync(thermal).map((z) => path.join(thermal, z, 'temp'));
const paths = [...zones, path.join(fixture, 'proc/meminfo'), path.join(fixture, 'proc/pressure/memory')];
const kinds = paths.map((p, i) => (i < zones.length ? 0 : 1));
let psiOk = false;
try {
  fs.readFileSync('/proc/pressure/memory');
  psiOk = true;
} catch {}

const code = `
  const { parentPort, workerData } = require('worker_threads');
  const addon = require(workerData.addonPath);
  const rd = new addon.Reader(workerData.paths, workerData.kinds);
  rd.read();
  const w = new addon.PsiWatcher(() => {});
  if (workerData.psiOk) w.add('/proc/pressure/memory', 'some 300000 2000000');
  parentPort.postMessage(rd.read().values.length);
  // No close(): the env cleanup hook must stop the thread and the finalizers close the fds.
`;
const fd0 = fdCount();
let done = 0;
let values = 0;
const run = (i) =>
  new Promise((res, rej) => {
    const wk = new Worker(code, { eval: true, workerData: { addonPath, paths, kinds, psiOk } });
    wk.on('message', (n) => {
      values += n;
      if (i % 2) wk.terminate();
    });
    wk.on('error', rej);
    wk.on('exit', () => {
      done++;
      res();
    });
  });
(async () => {
  for (let round = 0; round < rounds; round++) await Promise.all([0, 1, 2, 3].map(run));
  global.gc?.();
  const fd1 = fdCount();
  // Leave one armed watcher in the main thread: process exit runs the cleanup hook.
  const w = new addon.PsiWatcher(() => {});
  if (psiOk) w.add('/proc/pressure/memory', 'some 300000 2000000');
  console.log(JSON.stringify({ done, values, files: paths.length, fd0, fd1, psiOk }));
})().catch((e) => {
  console.error(e);
  process.exit(3);
});
