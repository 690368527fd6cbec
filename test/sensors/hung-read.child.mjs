// Child process for hung-read.test.ts: a battery attribute whose read genuinely blocks (a FIFO
// this process holds open for writing, passed off as the attribute through the binding's test
// hook). Runs in a child so a regression that blocks the event loop fails by timeout instead of
// wedging the test runner. Prints one JSON line.
//   argv: <dist dir> <sysfs root copy> <fifo path> <native|fallback>
import * as fs from 'node:fs';
import { join } from 'node:path';

const [dist, root, fifo, which] = process.argv.slice(2);
const { openSensors } = await import(join(dist, 'sensors/index.js'));
const { createFallbackBinding } = await import(join(dist, 'native/fallback.js'));
const { createNativeBinding, loadNativeAddon } = await import(join(dist, 'native/native.js'));

const current = join(root, 'sys/class/power_supply/battery/current_now');
const g3d = join(root, 'sys/class/thermal/thermal_zone3/temp'); // G3D
// Held open read-write: the FIFO has a writer, so a read on it blocks until we write.
const writer = fs.openSync(fifo, fs.constants.O_RDWR);

const inner = which === 'native' ? createNativeBinding(loadNativeAddon().addon) : createFallbackBinding();
const binding = {
  name: inner.name,
  openReader: (specs) =>
    inner.openReader(specs.map((s) => (s.path === current ? { ...s, path: fifo, testAllowNonRegular: true } : s))),
  watchPressure: (spec, cb) => inner.watchPressure(spec, cb),
  close: () => inner.close(),
};

const HUNG_MS = 300;
const now = () => performance.now();
let ticks = 0;
const ticker = setInterval(() => ticks++, 10);
const t0 = now();
const openedSrc = openSensors({ sysfsRoot: root, binding, log: () => {}, hungReadMs: HUNG_MS });
const src = await openedSrc;
const openMs = now() - t0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const out = { which, openMs, reads: [] };
let maxReadMs = 0;
const sample = (label) => {
  const a = now();
  const s = src.read();
  maxReadMs = Math.max(maxReadMs, now() - a);
  const r = {
    label,
    atMs: Math.round(now() - t0),
    ticks,
    battery_w: s.signals.battery_w ?? null,
    battery_pct: s.signals.battery_pct ?? null,
    g3d: s.signals['zone.G3D'] ?? null,
    batteryFaults: s.faults.filter((f) => f.signal === 'battery_w').map((f) => f.reason),
  };
  out.reads.push(r);
  return r;
};

// 1. Blocked from the start: nothing has ever been written to the FIFO.
const ticksBefore = ticks;
for (let i = 0; i < 12; i++) {
  sample('blocked');
  if (i === 6) fs.writeFileSync(g3d, '70500\n'); // another sensor changes while the battery hangs
  await sleep(50);
}
out.ticksWhileBlocked = ticks - ticksBefore;
out.firstHungAtMs = out.reads.find((r) => r.batteryFaults.some((f) => /read hung/.test(f)))?.atMs ?? null;

// 2. The driver answers again: one value per sample (each read consumes what was written).
for (let i = 0; i < 6; i++) {
  fs.writeSync(writer, '-700000\n');
  await sleep(30);
  sample('recovered');
  await sleep(20);
}

// 3. Blocked again, then closed while its thread waits in the read.
await sleep(HUNG_MS + 150);
sample('blocked-again');
const c0 = now();
src.close();
out.closeMs = now() - c0;
out.maxReadMs = maxReadMs;
clearInterval(ticker);
console.log(JSON.stringify(out));
