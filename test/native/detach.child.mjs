// Child for detach.test.ts: reader threads stuck in a read() that nothing can interrupt (the
// binding's testUninterruptible hook: no stop-aware poll, exactly like a wedged regular sysfs
// file). close(), a worker's teardown and process exit must not wait for them. One JSON line.
//   argv: <dist dir> <fifo> <regular file>
import * as fs from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

const [dist, fifo, regular] = process.argv.slice(2);
const { createNativeBinding, loadNativeAddon } = await import(join(dist, 'native/native.js'));
const binding = createNativeBinding(loadNativeAddon().addon);
const writer = fs.openSync(fifo, fs.constants.O_RDWR); // a writer exists, so reads block
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const specs = [
  { path: fifo, kind: 'int', group: 'gauge', testAllowNonRegular: true, testUninterruptible: true },
  { path: regular, kind: 'int' },
];
const out = {};

// 0. Open/read/close cycles with a grouped (threaded) file: no fd or thread left behind.
const count = (dir) => fs.readdirSync(dir).length;
const grouped = [{ path: regular, kind: 'int', group: 'g' }, { path: regular, kind: 'int' }];
for (let i = 0; i < 20; i++) binding.openReader(grouped).close(); // warm-up (libuv, caches)
const fds0 = count('/proc/self/fd');
const tasks0 = count('/proc/self/task');
let agree = 0;
for (let i = 0; i < 2000; i++) {
  const g = binding.openReader(grouped);
  const v = g.read().values;
  if (v[0] === v[1]) agree++;
  g.close();
}
out.cycleFdDelta = count('/proc/self/fd') - fds0;
out.cycleTaskDelta = count('/proc/self/task') - tasks0;
out.cycleAgree = agree;

// 1. close() while the thread is in read(): returns after the bounded join wait (detached).
let r = binding.openReader(specs);
await sleep(30);
let b = r.read();
out.pendingMs = b.pendingMs[0];
out.regularValue = b.values[1];
let t = performance.now();
r.close();
out.closeMs = performance.now() - t;

// 2. The detached thread's read finally returns: it must clean up alone, without a crash.
r = binding.openReader(specs);
await sleep(20);
r.read();
r.close();
fs.writeSync(writer, '1\n'); // releases one of the two detached threads
fs.writeSync(writer, '2\n');
await sleep(100);
out.aliveAfterRelease = true;

// 3. A worker whose reader thread is stuck exits (env teardown runs the reader's finalizer).
const w = new Worker(
  `const { workerData, parentPort } = require('node:worker_threads');
   import(workerData.native).then(({ createNativeBinding, loadNativeAddon }) => {
     const r = createNativeBinding(loadNativeAddon().addon).openReader(workerData.specs);
     setTimeout(() => { r.read(); parentPort.postMessage('stuck'); }, 20); // never closed
   });`,
  { eval: true, workerData: { native: join(dist, 'native/native.js'), specs } },
);
await new Promise((res) => w.once('message', res));
t = performance.now();
await w.terminate();
out.workerExitMs = performance.now() - t;

// 4. Process exit with a thread still inside read() (one more reader, left open).
r = binding.openReader(specs);
await sleep(20);
r.read();
console.log(JSON.stringify(out));
process.exit(0);
