// Core throughput: samples/s through the governor's `step` on a synthetic 1 h trace at
// 10 Hz (36,000 samples, a heat-up/cool-down cycle with zone readings, noise, memory swings),
// with policies/default.yaml when the policy loader is built, else an equivalent phone policy.
// Before/after: the same samples through the baseline commit's core (bench/baseline.js) with its
// own policies/default.yaml, runs interleaved, one line with both figures and their ratio.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { initialState, step } from '../dist/core/governor.js';
import { BASELINE_SKIPS_FORECAST, prepareBaseline, skipLine } from './baseline.js';
import { writePolicyAtPeriod } from './policy-at-period.js';

/** The sample period of the bench's hour (10 Hz). */
const TEN_HZ_MS = 100;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

function phonePolicy() {
  const lv = (sev, setAt, clearAt) => ({ severity: sev, setAt, clearAt });
  return {
    file: '<bench>', name: 'bench-phone',
    sensors: [
      { name: 'soc_c', min: -20, max: 130, critical: true, maxSlewPerS: 30, source: { kind: 'max', zones: ['cpu*', 'gpu*'] } },
      { name: 'skin_c', min: -20, max: 80, critical: true, maxSlewPerS: 5 },
      { name: 'battery_pct', min: 0, max: 100, critical: false, maxSlewPerS: 5 },
      { name: 'mem_avail_mb', min: 0, max: 1048576, critical: false, maxSlewPerS: Infinity },
    ],
    limits: [
      { signal: 'soc_c', direction: 'rising', levels: [lv('light', 65, 62), lv('moderate', 75, 72), lv('severe', 85, 82), lv('critical', 95, 92)] },
      { signal: 'skin_c', direction: 'rising', levels: [lv('light', 39, 38), lv('moderate', 41, 40), lv('severe', 43, 42), lv('critical', 45, 44)] },
      { signal: 'battery_pct', direction: 'falling', levels: [lv('light', 20, 22), lv('moderate', 10, 12)] },
      { signal: 'mem_avail_mb', direction: 'falling', levels: [lv('moderate', 800, 1000), lv('severe', 400, 500)] },
    ],
    model: { name: 'm', kvBytesPerToken: 112 * 1024, overheadBytes: 300 * MiB, batchBytesPerToken: 0.5 * MiB,
      quants: [{ name: 'q8_0', weightsBytes: 3.4 * GiB, qualityCost: 0 }, { name: 'q4_k_m', weightsBytes: 2 * GiB, qualityCost: 0.03 }] },
    tiers: [
      { name: 'full', index: 0, quant: 'q8_0', contextLength: 8192, batchSize: 512, pacingMs: 0 },
      { name: 'balanced', index: 1, quant: 'q4_k_m', contextLength: 4096, batchSize: 256, pacingMs: 0 },
      { name: 'lean', index: 2, quant: 'q4_k_m', contextLength: 2048, batchSize: 128, pacingMs: 20 },
    ],
    rules: {
      severityCaps: { none: 'full', light: 'balanced', moderate: 'lean' },
      offload: { cloudAllowed: true, cloudAtSeverity: 'critical', minLocalTokS: 5 },
      memory: { reserveMb: 300, onShortage: 'clamp-context', minContextLength: 512 },
      battery: { lowChargeCaps: [{ belowPct: 15, tier: 'lean' }] },
    },
    control: { samplePeriodMs: 100, dwellMs: 10000, relaxStep: 1, maxEscalateStep: Infinity, forecastHorizonMs: 20000,
      slopeWindowMs: 10000, smoothingMs: 1000, safeTier: 'lean', leaseTtlMs: 3000, holdMs: 5000, stuckAfterMs: 120000 },
  };
}

async function loadPolicy() {
  const loader = new URL('../dist/policy/load.js', import.meta.url);
  const file = fileURLToPath(new URL('../policies/default.yaml', import.meta.url));
  if (existsSync(fileURLToPath(loader)) && existsSync(file)) {
    try {
      const { loadPolicyFile } = await import(loader.href);
      return { policy: await loadPolicyFile(file), label: 'policies/default.yaml', loadPolicyFile, file };
    } catch { /* fall through to the built-in policy */ }
  }
  return { policy: phonePolicy(), label: 'built-in phone policy' };
}

/** Deterministic pseudo-noise (no Math.random: the run must be repeatable). */
function noise(k) {
  const x = Math.sin(k * 12.9898) * 43758.5453;
  return x - Math.floor(x) - 0.5;
}

function syntheticHour(periodMs) {
  const samples = [];
  for (let t = 0, k = 0; t < 3_600_000; t += periodMs, k++) {
    const phase = (t % 1_200_000) / 1_200_000; // 20 min heat-up/cool-down cycles
    const soc = 45 + 50 * Math.sin(Math.PI * phase) + noise(k);
    samples.push({
      t_ms: t,
      'zone.cpu0': soc, 'zone.cpu1': soc - 1.5 + noise(k + 1), 'zone.gpu0': soc - 3 + noise(k + 2),
      skin_c: 30 + (soc - 45) / 5 + noise(k + 3) * 0.1,
      battery_c: 30 + noise(k + 4) * 0.1,
      battery_w: 4 + noise(k + 5),
      battery_pct: 90 - t / 60_000,
      charging: 0,
      mem_avail_mb: 5200 + 1800 * Math.sin(t / 90_000) + noise(k + 6) * 20,
      psi_mem_some_avg10: 2 + noise(k + 7),
      tok_s: 12 + noise(k + 8),
    });
  }
  return samples;
}

/** The baseline's core and its own default policy, or why not. */
async function loadBaselineCore() {
  const b = prepareBaseline();
  if (b.skip) return b;
  try {
    const gov = await import(pathToFileURL(join(b.dir, 'dist', 'core', 'governor.js')).href);
    const { loadPolicyFile } = await import(pathToFileURL(join(b.dir, 'dist', 'policy', 'load.js')).href);
    const file = join(b.dir, 'policies', 'default.yaml');
    return { ...b, step: gov.step, initialState: gov.initialState, policy: await loadPolicyFile(file), loadPolicyFile, file };
  } catch (err) {
    return { skip: `loading the core of ${b.commit} failed: ${String(err?.message ?? err).split('\n')[0]}` };
  }
}

/** `file`'s policy written for `periodMs` samples (see writePolicyAtPeriod), loaded with `load`. */
async function policyAtPeriod(load, file, periodMs) {
  const dir = mkdtempSync(join(tmpdir(), 'edgegov-bench-'));
  try {
    return await load(writePolicyAtPeriod(file, periodMs, join(dir, 'policy.yaml')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One pass of every sample through `core.step` from a fresh state. */
function runOnce(core, policy, samples) {
  let state = core.initialState(policy);
  let changes = 0;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < samples.length; i++) {
    const r = core.step(state, samples[i], policy);
    state = r.state;
    if (r.changed) changes++;
  }
  const ns = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(c0);
  return { ns, cpuUs: cpu.user + cpu.system, changes };
}

const median = (xs) => Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]);

/** Warm-up, then 15 timed passes of each core, alternating, so both see the same machine load. */
function measure(samples, cores) {
  for (let w = 0; w < 5; w++) for (const c of cores) runOnce(c, c.policy, samples); // let the JIT settle
  const out = cores.map(() => ({ wall: [], cpu: [], changes: 0 }));
  for (let r = 0; r < 15; r++) {
    cores.forEach((c, k) => {
      const res = runOnce(c, c.policy, samples);
      out[k].changes = res.changes;
      out[k].wall.push(samples.length / (res.ns / 1e9));
      out[k].cpu.push(samples.length / (res.cpuUs / 1e6));
    });
  }
  return out;
}

export default async function (emit) {
  const own = await loadPolicy();
  const { policy, label } = own;
  const samples = syntheticHour(TEN_HZ_MS);
  const after = { step, initialState, policy };
  const before = await loadBaselineCore();
  const [now, then] = measure(samples, before.skip ? [after] : [after, before]);
  emit({
    name: 'core.throughput',
    // Wall-clock median of 15 runs; `perCpuSecond` divides by this process's CPU time instead,
    // which is the steadier figure on a shared, loaded machine.
    value: median(now.wall),
    unit: 'samples/s',
    target: 1e6,
    perCpuSecond: median(now.cpu),
    best: Math.round(Math.max(...now.wall)),
    samples: samples.length,
    decisionChanges: now.changes,
    policy: label,
  });
  if (before.skip) {
    emit(skipLine('core.throughput.before_after', before.skip));
    return;
  }
  emit(beforeAfter('core.throughput.before_after', now, then, {
    baseline: before.sha.slice(0, 7), samples: samples.length,
    note: BASELINE_SKIPS_FORECAST,
  }));
  // The same hour at the policy's own sample period: the rate the policy is written for, where
  // both builds forecast. (At 10 Hz the baseline's slope window held 4 s of its 10 s and gave no
  // slope at all, so it skipped the forecast work the current build does there.)
  const periodMs = policy.control.samplePeriodMs;
  const slow = syntheticHour(periodMs);
  const [nowP, thenP] = measure(slow, [after, before]);
  emit(beforeAfter('core.throughput.policy_rate.before_after', nowP, thenP, { periodMs, baseline: before.sha.slice(0, 7), samples: slow.length }));
  // The 10 Hz hour again, under each build's default policy written for 10 Hz: like for like at
  // that rate (both forecast on every sample).
  if (!own.file) return; // the built-in policy has no YAML to rewrite
  const after10 = { ...after, policy: await policyAtPeriod(own.loadPolicyFile, own.file, TEN_HZ_MS) };
  const before10 = { ...before, policy: await policyAtPeriod(before.loadPolicyFile, before.file, TEN_HZ_MS) };
  const [now10, then10] = measure(samples, [after10, before10]);
  emit(beforeAfter('core.throughput.policy_at_10hz.before_after', now10, then10, { periodMs: TEN_HZ_MS, baseline: before.sha.slice(0, 7), samples: samples.length }));
}

/** One before/after line: wall-clock and per-CPU-second medians of both builds and their ratios. */
function beforeAfter(name, now, then, extra) {
  const r2 = (x) => Math.round(x * 100) / 100;
  return {
    name,
    value: median(now.wall),
    unit: 'samples/s',
    before: median(then.wall),
    afterOverBefore: r2(median(now.wall) / median(then.wall)),
    perCpuSecond: { after: median(now.cpu), before: median(then.cpu), afterOverBefore: r2(median(now.cpu) / median(then.cpu)) },
    decisionChanges: { after: now.changes, before: then.changes },
    ...extra,
  };
}
