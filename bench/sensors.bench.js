// Sensor sampling cost, side by side in one run (SPEC §10: native ≥ 50× faster than
// systeminformation's readers and faster than the TS fallback), and the time from a PSI
// trigger firing (the addon's epoll thread waking) to the JS callback.
//
// Honesty notes, also emitted with the figures:
//  - native and fallback read the 64-zone Snapdragon fixture (test/fixtures/sysfs/sd8elite-dev):
//    every zone, the battery attributes, meminfo and PSI, interpreted into canonical signals;
//    the battery attributes go through the reader's group thread (native) / worker (fallback),
//    so each sample includes one cross-thread round trip (docs/sensors.md "Reads that stall");
//  - systeminformation cannot be pointed at a fixture: cpuTemperature()/battery()/mem() read this
//    machine's real /sys and /proc, which has NO thermal zones and NO battery, so its figure is a
//    lower bound for what it would cost on a 64-zone device.
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import si from 'systeminformation';
import { openSensorsSync } from '../dist/sensors/index.js';
import { createFallbackBinding } from '../dist/native/fallback.js';
import { createNativeBinding, loadNativeAddon } from '../dist/native/native.js';

const fixture = fileURLToPath(new URL('../test/fixtures/sysfs/sd8elite-dev/', import.meta.url));
const nowUs = () => Number(process.hrtime.bigint()) / 1e3;

function timeSync(fn, iterations) {
  for (let i = 0; i < Math.min(200, iterations); i++) fn();
  const samples = [];
  for (let i = 0; i < iterations; i++) {
    const t = nowUs();
    fn();
    samples.push(nowUs() - t);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

async function timeAsync(fn, iterations) {
  for (let i = 0; i < 3; i++) await fn();
  const samples = [];
  for (let i = 0; i < iterations; i++) {
    const t = nowUs();
    await fn();
    samples.push(nowUs() - t);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

const round = (v, d = 1) => Math.round(v * 10 ** d) / 10 ** d;

export default async function (emit) {
  const addon = loadNativeAddon().addon;
  const fallback = openSensorsSync({ sysfsRoot: fixture, binding: createFallbackBinding(), log: () => {} });
  const native = addon ? openSensorsSync({ sysfsRoot: fixture, binding: createNativeBinding(addon), log: () => {} }) : undefined;
  const files = fallback.discovery.zones.length;

  const fallbackUs = timeSync(() => fallback.read(), 3000);
  const nativeUs = native ? timeSync(() => native.read(), 3000) : undefined;
  const siUs = await timeAsync(() => Promise.all([si.cpuTemperature(), si.battery(), si.mem()]), 40);
  // Sequential too: what one sample costs the event loop when awaited one after another.
  const siSeqUs = await timeAsync(async () => {
    await si.cpuTemperature();
    await si.battery();
    await si.mem();
  }, 40);
  fallback.close();
  native?.close();

  const note = `${files}-zone fixture for native/fallback; systeminformation reads this machine's real /sys (no zones, no battery): a lower bound`;
  if (nativeUs !== undefined) {
    emit({
      name: 'sensors: one full sample, native addon',
      value: round(nativeUs),
      unit: 'µs/sample (median)',
      zones: files,
      vsSysteminformation: round(siUs / nativeUs),
      vsFallback: round(fallbackUs / nativeUs, 2),
      note,
    });
  } else {
    emit({ name: 'sensors: one full sample, native addon', value: null, unit: 'µs/sample', note: `addon not built: ${loadNativeAddon().why}` });
  }
  emit({ name: 'sensors: one full sample, TS fallback', value: round(fallbackUs), unit: 'µs/sample (median)', zones: files, vsSysteminformation: round(siUs / fallbackUs) });
  emit({ name: 'sensors: systeminformation cpuTemperature+battery+mem (parallel)', value: round(siUs), unit: 'µs/sample (median)', note });
  emit({ name: 'sensors: systeminformation cpuTemperature+battery+mem (sequential)', value: round(siSeqUs), unit: 'µs/sample (median)' });

  // Raw batched reads alone (no interpretation, no off-thread groups — every file read in the
  // call): where the native advantage on the fast path comes from.
  if (addon) {
    const specs = fallbackSpecs().map(({ group: _group, ...spec }) => spec);
    const nr = createNativeBinding(addon).openReader(specs);
    const fr = createFallbackBinding().openReader(specs);
    const nUs = timeSync(() => nr.read(), 3000);
    const fUs = timeSync(() => fr.read(), 3000);
    nr.close();
    fr.close();
    emit({ name: 'sensors: raw batched read only, native', value: round(nUs), unit: `µs for ${specs.length} files`, vsFallback: round(fUs / nUs, 2) });
    emit({ name: 'sensors: raw batched read only, fallback', value: round(fUs), unit: `µs for ${specs.length} files` });
  }

  if (addon) emit(hungGaugeSample(addon));
  emit(await psiLatency(addon));
}

/**
 * One full sample while the battery's current_now read is stuck in its driver (a FIFO with a
 * writer and no data, passed off as the attribute through the binding's test hook): the
 * snapshot's cost must not include the stuck read. Native only: the fallback's stuck worker
 * would hold up this process's exit (docs/sensors.md).
 */
function hungGaugeSample(addon) {
  const name = 'sensors: one full sample, native, battery gauge read stuck';
  const dir = mkdtempSync(join(tmpdir(), 'edgegov-bench-hung-'));
  const fifo = join(dir, 'gauge.fifo');
  try {
    execFileSync('mkfifo', [fifo]);
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return { name, value: null, unit: 'µs/sample', note: 'mkfifo unavailable' };
  }
  const writer = openSync(fifo, constants.O_RDWR);
  const inner = createNativeBinding(addon);
  const current = join(fixture, 'sys/class/power_supply/battery/current_now');
  const binding = {
    name: inner.name,
    openReader: (specs) => inner.openReader(specs.map((s) => (s.path === current ? { ...s, path: fifo, testAllowNonRegular: true } : s))),
    watchPressure: (spec, cb) => inner.watchPressure(spec, cb),
    close: () => inner.close(),
  };
  const src = openSensorsSync({ sysfsRoot: fixture, binding, log: () => {}, hungReadMs: 1 });
  const us = timeSync(() => src.read(), 3000);
  const hung = src.read().faults.some((f) => /current_now: read hung/.test(f.reason));
  src.close();
  closeSync(writer);
  rmSync(dir, { recursive: true, force: true });
  return { name, value: round(us), unit: 'µs/sample (median)', batteryMarkedHung: hung };
}

function fallbackSpecs() {
  const s = openSensorsSync({ sysfsRoot: fixture, binding: createFallbackBinding(), log: () => {} });
  const specs = s.discovery.zones.map((z) => ({ path: z.tempPath, kind: 'int' }));
  s.close();
  specs.push({ path: join(fixture, 'proc/meminfo'), kind: 'text' }, { path: join(fixture, 'proc/pressure/memory'), kind: 'text' });
  return specs;
}

/** Real memory pressure in a memory-limited cgroup; latency = JS callback time − epoll wake time. */
async function psiLatency(addon) {
  const name = 'sensors: PSI trigger → JS callback latency';
  if (!addon) return { name, value: null, unit: 'ms', note: 'native addon not built' };
  if (process.getuid?.() !== 0) return { name, value: null, unit: 'ms', note: 'needs root to create a memory-limited cgroup' };
  const v2 = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'].find((p) => existsSync(join(p, 'cgroup.controllers')));
  if (!v2) return { name, value: null, unit: 'ms', note: 'no cgroup v2 hierarchy (PSI per cgroup)' };
  const id = `edgegov-bench-${process.pid}`;
  const dirs = [];
  let pressure;
  let enter;
  try {
    if (/\bmemory\b/.test(readFileSync(join(v2, 'cgroup.controllers'), 'utf8'))) {
      if (!/\bmemory\b/.test(readFileSync(join(v2, 'cgroup.subtree_control'), 'utf8'))) writeFileSync(join(v2, 'cgroup.subtree_control'), '+memory');
      const g = join(v2, id);
      mkdirSync(g);
      dirs.push(g);
      writeFileSync(join(g, 'memory.max'), String(64 << 20));
      pressure = join(g, 'memory.pressure');
      enter = `echo $$ > ${g}/cgroup.procs`;
    } else {
      const g1 = join('/sys/fs/cgroup/memory', id);
      const g2 = join(v2, id);
      mkdirSync(g1);
      dirs.push(g1);
      mkdirSync(g2);
      dirs.push(g2);
      writeFileSync(join(g1, 'memory.limit_in_bytes'), String(64 << 20));
      pressure = join(g2, 'memory.pressure');
      enter = `echo $$ > ${g1}/cgroup.procs; echo $$ > ${g2}/cgroup.procs`;
    }
  } catch (err) {
    for (const d of dirs.reverse()) try { rmdirSync(d); } catch {}
    return { name, value: null, unit: 'ms', note: `cannot make a memory cgroup: ${err.message}` };
  }
  const binding = createNativeBinding(addon);
  const lat = [];
  const r = binding.watchPressure({ path: pressure, kind: 'some', stallUs: 1000, windowUs: 2_000_000 }, (ev) => {
    if (ev.type === 'fired') lat.push(Number(process.hrtime.bigint()) / 1e6 - ev.monoMs);
  });
  const alloc = `${JSON.stringify(process.execPath)} -e 'const a=[]; for(let i=0;i<200;i++) a.push(Buffer.alloc(1<<20,1))'`;
  const child = spawn('sh', ['-c', `${enter}; while true; do ${alloc} 2>/dev/null; done`], { stdio: 'ignore', detached: true });
  const deadline = Date.now() + 12_000;
  while (r.ok && Date.now() < deadline && lat.length < 5) await new Promise((res) => setTimeout(res, 50));
  try { process.kill(-child.pid, 'SIGKILL'); } catch {}
  await new Promise((res) => setTimeout(res, 200));
  binding.close();
  for (const d of dirs.reverse()) {
    for (let i = 0; i < 100; i++) {
      try { rmdirSync(d); break; } catch { await new Promise((res) => setTimeout(res, 20)); }
    }
  }
  if (!r.ok) return { name, value: null, unit: 'ms', note: `trigger refused: ${r.code}` };
  if (!lat.length) return { name, value: null, unit: 'ms', note: 'no event within 12 s' };
  lat.sort((a, b) => a - b);
  return {
    name,
    value: round(lat[Math.floor(lat.length / 2)], 3),
    unit: 'ms (median)',
    max: round(lat[lat.length - 1], 3),
    events: lat.length,
    note: 'real memory pressure in a 64 MiB cgroup; unprivileged 2 s window; from epoll wake to JS callback',
  };
}
