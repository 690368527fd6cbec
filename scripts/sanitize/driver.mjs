// Driver for scripts/sanitize-native.sh: every native entry point, in open/read/close cycles,
// run under ASan+UBSan (an instrumented build) or valgrind memcheck (the normal build). It only
// exercises and counts; the sanitizer or valgrind is the judge. One JSON line on stdout.
//
//   node --expose-gc driver.mjs <addon.node> <fixture sysfs root> [cycles] [workers]
//
// Covered per cycle: a Reader over a fixture tree (fast-path files, two off-thread groups, a
// missing file, a non-number, a text file and an int file longer than their first buffer so the
// buffer grows), read twice, closed or dropped to the GC; a PsiWatcher armed on a real pressure
// file when one can be written (else refused on the fixture), removed, closed or dropped; the
// addon's argument errors (C++ exceptions). Once per run: a trigger killed by removing its
// cgroup (POLLERR → a "gone" event through the thread-safe function), a reader thread detached
// inside a read that nothing interrupts and released later, Worker threads torn down with live
// readers and armed watchers, SO_PEERCRED on a real Unix socket, and exit with a watcher armed.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

const [addonPath, fixtureRoot, cyclesArg, workersArg] = process.argv.slice(2);
if (!addonPath || !fixtureRoot) {
  console.error('usage: node --expose-gc driver.mjs <addon.node> <fixture sysfs root> [cycles] [workers]');
  process.exit(1);
}
const cycles = Number(cyclesArg ?? 50);
const workerCount = Number(workersArg ?? 4);
const addon = createRequire(import.meta.url)(addonPath);
const gc = globalThis.gc ?? (() => {});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const settle = async () => {
  gc();
  await new Promise((r) => setImmediate(r));
  gc();
  await sleep(5);
};
const t0 = performance.now();
const phaseMs = {};
const mark = (name) => (phaseMs[name] = Math.round(performance.now() - t0));
// Node's own start-up before this line (most of a memcheck run's wall time).
const startupMs = Math.round(process.uptime() * 1000);
const out = { cycles, startupMs, phaseMs, readerCycles: 0, watcherCycles: 0, realTriggers: 0, argErrors: 0 };

const tmp = fs.mkdtempSync(join(tmpdir(), 'edgegov-sanitize-'));
const zonesDir = join(fixtureRoot, 'sys/class/thermal');
const zones = fs.readdirSync(zonesDir).filter((z) => z.startsWith('thermal_zone')).slice(0, 8).map((z) => join(zonesDir, z, 'temp'));
const battery = join(fixtureRoot, 'sys/class/power_supply/battery');
const bigText = join(tmp, 'big.txt');
fs.writeFileSync(bigText, 'x'.repeat(9000) + '\n'); // > 4096: the text buffer doubles twice
const longInt = join(tmp, 'long-int');
fs.writeFileSync(longInt, ' '.repeat(200) + '42\n'); // > 128: the int buffer doubles
const garbage = join(tmp, 'garbage');
fs.writeFileSync(garbage, 'not a number\n');
const files = [
  ...zones.map((p) => ({ p, kind: 0, group: -1 })),
  { p: join(fixtureRoot, 'proc/meminfo'), kind: 1, group: -1 },
  { p: join(fixtureRoot, 'proc/pressure/memory'), kind: 1, group: -1 },
  { p: join(tmp, 'missing'), kind: 0, group: -1 }, // ENOENT at open
  { p: garbage, kind: 0, group: -1 }, // EBADMSG
  { p: longInt, kind: 0, group: 1 },
  { p: bigText, kind: 1, group: 1 },
  { p: join(battery, 'capacity'), kind: 0, group: 0 },
  { p: join(battery, 'status'), kind: 1, group: 0 },
  { p: join(battery, 'voltage_now'), kind: 0, group: 0 },
  { p: tmp, kind: 0, group: 0 }, // a directory: refused (ESPIPE) on an off-thread group
];
const paths = files.map((f) => f.p);
const kinds = files.map((f) => f.kind);
const groups = files.map((f) => f.group);

// A pressure file this process may arm a trigger on, or none (then only the refusal path runs).
const realPsi = (() => {
  try {
    const w = new addon.PsiWatcher(() => {});
    const id = w.add('/proc/pressure/memory', 'some 500000 2000000');
    w.close();
    return id > 0 ? '/proc/pressure/memory' : undefined;
  } catch {
    return undefined;
  }
})();
out.realPsi = realPsi ?? null;

function expectThrow(fn) {
  try {
    fn();
  } catch (e) {
    if (e instanceof Error) out.argErrors++;
    return;
  }
  throw new Error('expected a throw from ' + fn.toString());
}

for (let i = 0; i < cycles; i++) {
  const r = new addon.Reader(paths, kinds, groups, 5);
  const b1 = r.read();
  const b2 = r.read();
  if (b1.errnos[zones.length] !== 0 || b2.values[0] !== b1.values[0]) throw new Error('fixture read failed: ' + Array.from(b1.errnos));
  if (r.openCount < zones.length) throw new Error('openCount ' + r.openCount);
  r.settled();
  if (i % 4 === 3) {
    // dropped without close(): the finalizer closes it
  } else {
    r.close();
    r.close(); // idempotent
    expectThrow(() => r.read()); // "reader is closed"
  }
  out.readerCycles++;

  const w = new addon.PsiWatcher(() => {});
  const refused = w.add(join(fixtureRoot, 'proc/pressure/memory'), 'some 150000 2000000');
  if (refused >= 0) throw new Error('a fixture file took a trigger');
  if (realPsi && i % 5 === 0) {
    const id = w.add(realPsi, 'some 500000 2000000');
    if (id > 0) out.realTriggers++;
    if (w.count !== (id > 0 ? 1 : 0)) throw new Error('count ' + w.count);
    if (i % 10 === 0) w.remove(id);
  }
  w.remove(12345); // unknown id
  if (i % 3 !== 2) {
    w.close();
    if (w.add(realPsi ?? tmp, 'some 1 2000000') >= 0) throw new Error('add after close');
  }
  out.watcherCycles++;

  if (i % 10 === 0) {
    expectThrow(() => new addon.Reader('x', []));
    expectThrow(() => new addon.Reader(['a'], []));
    expectThrow(() => new addon.Reader([1], [0]));
    expectThrow(() => new addon.PsiWatcher(42));
    expectThrow(() => w.add(1, 2));
    expectThrow(() => addon.peerCredentials('x'));
    addon.probeTrigger(join(fixtureRoot, 'proc/pressure/memory'), 'some 1 2000000', true);
  }
  if (i % 10 === 9) await settle();
}
await settle();
mark('cycles');

// A trigger killed by rmdir of its cgroup: POLLERR → one "gone" event delivered to JS.
out.goneEvents = 0;
const v2root = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'].find((p) => fs.existsSync(join(p, 'cgroup.procs')) && fs.existsSync(join(p, 'cgroup.controllers')));
if (process.getuid?.() === 0 && v2root) {
  const g = join(v2root, `edgegov-sanitize-${process.pid}`);
  try {
    fs.mkdirSync(g);
    let gone;
    const seen = new Promise((res) => (gone = res));
    const w = new addon.PsiWatcher((id, kind) => {
      if (kind === 1) {
        out.goneEvents++;
        gone();
      }
    });
    const id = w.add(join(g, 'memory.pressure'), 'some 500000 2000000');
    if (id <= 0) throw new Error(`trigger on ${g}/memory.pressure: ${id}`);
    fs.rmdirSync(g);
    let timer;
    await Promise.race([seen, new Promise((r) => (timer = setTimeout(r, 20_000)))]);
    clearTimeout(timer);
    w.close();
  } catch (e) {
    out.goneSkipped = String(e.message ?? e);
    try {
      fs.rmdirSync(g);
    } catch {
      /* not created */
    }
  }
} else {
  out.goneSkipped = 'not root or no cgroup v2 tree';
}
mark('gone');

// A reader thread detached inside a read() nothing interrupts, then released: it frees itself.
const fifo = join(tmp, 'gauge.fifo');
execFileSync('mkfifo', [fifo]);
const writer = fs.openSync(fifo, fs.constants.O_RDWR);
{
  const tasks = () => fs.readdirSync('/proc/self/task').length;
  const tasks0 = tasks();
  const r = new addon.Reader([fifo, zones[0]], [2 | 4, 0], [0, -1], 5);
  // Wait until its thread is inside the read (slow to start under memcheck): a thread that had
  // not begun would see the stop flag and be joined, and the detach path would go untested.
  for (let i = 0; i < 500 && !(r.read().pendingMs[0] > 0); i++) await sleep(10);
  r.close(); // bounded join wait, then detach
  out.detachedThreadAlive = tasks() > tasks0;
  fs.writeSync(writer, '7\n');
  // Released, the thread frees its group and exits on its own.
  for (let i = 0; i < 300 && tasks() > tasks0; i++) await sleep(10);
  out.detachedReleased = tasks() <= tasks0;
}
mark('detach');

// Worker threads torn down with live readers and armed watchers (env cleanup hook + finalizers).
const workerCode = `
  const { parentPort, workerData } = require('node:worker_threads');
  const addon = require(workerData.addonPath);
  const r = new addon.Reader(workerData.paths, workerData.kinds, workerData.groups, 5);
  r.read();
  const w = new addon.PsiWatcher(() => {});
  if (workerData.realPsi) w.add(workerData.realPsi, 'some 500000 2000000');
  parentPort.postMessage(r.read().values.length);
`;
out.workers = 0;
for (let i = 0; i < workerCount; i++) {
  const wk = new Worker(workerCode, { eval: true, workerData: { addonPath, paths, kinds, groups, realPsi } });
  await new Promise((res, rej) => {
    wk.once('message', () => (i % 2 ? wk.terminate() : undefined));
    wk.once('error', rej);
    wk.once('exit', res);
  });
  out.workers++;
}
mark('workers');

// SO_PEERCRED on both ends of a real Unix-socket connection, and on a bad fd.
{
  const sock = join(tmp, 's.sock');
  const server = net.createServer();
  await new Promise((r) => server.listen(sock, r));
  const accepted = new Promise((r) => server.once('connection', r));
  const client = net.connect(sock);
  const conn = await accepted;
  const cred = addon.peerCredentials(conn._handle.fd);
  if (typeof cred !== 'object' || cred.pid !== process.pid) throw new Error('peerCredentials ' + JSON.stringify(cred));
  if (addon.peerCredentials(-1) >= 0) throw new Error('peerCredentials(-1) succeeded');
  out.peerCredPid = cred.pid === process.pid;
  client.destroy();
  conn.destroy();
  await new Promise((r) => server.close(r));
}
mark('peercred');

fs.closeSync(writer);
fs.rmSync(tmp, { recursive: true, force: true });
await settle();
// Exit with one watcher still armed: the env cleanup hook stops its thread.
const last = new addon.PsiWatcher(() => {});
if (realPsi) last.add(realPsi, 'some 500000 2000000');
console.log(JSON.stringify(out));
