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
  emit({ name: `compare: ${jobs.length} runs (${listDevices().length} devices × ${listScenarios().length} scenarios × ${CONTROLLERS.length} controllers, ${deviceHours.toFixed(1)} device-hours)`, value: Math.round(ms / 100) / 10, unit: 's', target_s: 60, x_faster_than_target: Math.round((60_000 / ms) * 10) / 10 });
}
