// Simulator speed (issue 5 targets): one hour of device time through the closed loop (device
// model + the real governor core at the policy's 2 Hz) in < 2 s, and `compare` over every
// shipped device × scenario × controller in < 1 min. Medians of 3 runs in this process.
import { loadDevice, listDevices } from '../dist/sim/device.js';
import { loadScenario, listScenarios } from '../dist/sim/scenario.js';
import { loadPolicyFile } from '../dist/policy/load.js';
import { defaultPolicyPath } from '../dist/sim/resolve.js';
import { runSimulation } from '../dist/sim/run.js';
import { runCompare } from '../dist/sim/compare.js';
import { CONTROLLERS } from '../dist/sim/controllers.js';
import { prepareBaseline, skipLine } from './baseline.js';

/**
 * The "before" of issue 22's speed bar ("the full compare at one seed takes at most 2× today's"):
 * main before the user-value score, its best-static tiers and the value model.
 */
export const COMPARE_BASELINE_COMMIT = 'eeff864';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export default async function (emit) {
  const device = loadDevice('flagship-phone');
  const policy = await loadPolicyFile(defaultPolicyPath(device));
  const hour = { ...loadScenario('sustained-chat'), durationS: 3600 };

  for (const controller of ['edgegov', 'static']) {
    const times = [];
    let steps = 0;
    for (let i = 0; i < 3; i++) {
      steps = 0;
      const t0 = performance.now();
      runSimulation({ device, scenario: hour, policy, controller, onStep: () => { steps++; } });
      times.push(performance.now() - t0);
    }
    const ms = median(times);
    emit({ name: `sim: 1 h of device time, flagship-phone sustained-chat, ${controller}`, value: Math.round(ms), unit: 'ms', target_ms: 2000, x_faster_than_target: Math.round((2000 / ms) * 10) / 10 });
    emit({ name: `sim: control periods per second (${controller})`, value: Math.round(steps / (ms / 1000)), unit: 'steps/s', x_real_time: Math.round(3600_000 / ms) });
  }

  const jobs = [];
  for (const d of listDevices()) {
    const dev = loadDevice(d);
    const pol = await loadPolicyFile(defaultPolicyPath(dev));
    for (const s of listScenarios()) for (const controller of CONTROLLERS) jobs.push({ device: dev, policy: pol, scenario: loadScenario(s), controller });
  }
  const deviceHours = jobs.reduce((h, j) => h + j.scenario.durationS / 3600, 0);
  const times = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    runCompare(jobs);
    times.push(performance.now() - t0);
  }
  const ms = median(times);
  await compareBeforeAfter(emit);
  emit({ name: `compare: ${jobs.length} runs (${listDevices().length} devices × ${listScenarios().length} scenarios × ${CONTROLLERS.length} controllers, ${deviceHours.toFixed(1)} device-hours)`, value: Math.round(ms / 100) / 10, unit: 's', target_s: 60, x_faster_than_target: Math.round((60_000 / ms) * 10) / 10 });
}

/** The default `compare` (every shipped device × scenario, each scenario's seed) of one build's dist/. */
async function compareOf(root) {
  const m = (p) => import(new URL(`${root}/dist/${p}`, import.meta.url).href);
  const [dev, sc, load, res, cmp, ctl] = await Promise.all(['sim/device.js', 'sim/scenario.js', 'policy/load.js', 'sim/resolve.js', 'sim/compare.js', 'sim/controllers.js'].map(m));
  const jobs = [];
  for (const d of dev.listDevices()) {
    const device = dev.loadDevice(d);
    const policy = await load.loadPolicyFile(res.defaultPolicyPath(device));
    for (const s of sc.listScenarios()) for (const controller of ctl.CONTROLLERS) jobs.push({ device, policy, scenario: sc.loadScenario(s), controller });
  }
  return { run: () => cmp.runCompare(jobs), controllers: ctl.CONTROLLERS.length };
}

/**
 * `compare` at one seed, this build against COMPARE_BASELINE_COMMIT, alternating in one run so the
 * machine's load falls on both alike (issue 22: after ÷ before ≤ 2). The baseline ran 4
 * controllers; this build runs 5, `best-static` being every fixed tier of each policy.
 */
async function compareBeforeAfter(emit) {
  const name = 'compare.one_seed.before_after';
  const base = prepareBaseline(process.env.EDGEGOV_BENCH_BASELINE ?? COMPARE_BASELINE_COMMIT);
  if (base.skip) { emit(skipLine(name, base.skip)); return; }
  const before = await compareOf(`file://${base.dir}`);
  const after = await compareOf(new URL('..', import.meta.url).href.replace(/\/$/, ''));
  const tb = [], ta = [];
  for (let i = 0; i < 3; i++) {
    let t0 = performance.now(); before.run(); tb.push(performance.now() - t0);
    t0 = performance.now(); after.run(); ta.push(performance.now() - t0);
  }
  const b = median(tb), a = median(ta);
  emit({
    name, before_commit: base.commit, before_s: Math.round(b / 100) / 10, after_s: Math.round(a / 100) / 10,
    afterOverBefore: Math.round((a / b) * 100) / 100, target_max: 2,
    note: `median of 3 alternating runs; before ${before.controllers} controllers, after ${after.controllers} (best-static = every fixed tier)`,
  });
}
