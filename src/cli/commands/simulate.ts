/**
 * `edgegov simulate --device <d> --scenario <s> [--policy <p>] [--controller c]`: one closed-loop
 * run of a device model under a scenario with a controller; SPEC §9 summary.
 *
 * `--trace-out` writes exactly the samples the controller saw, at full precision, so
 * `edgegov replay` on that trace reproduces the simulation's decisions (for `edgegov`).
 * Hook for `--report`/`--perfetto`: `runSimulation`'s `onStep` sees every period (sample,
 * decision, true temperatures, clock, tick stats) and `onDecision` every change.
 */
import type { Argv, CommandModule } from 'yargs';
import { loadPolicyFile } from '../../policy/load.js';
import { loadDevice } from '../../sim/device.js';
import { loadScenario } from '../../sim/scenario.js';
import { runSimulation } from '../../sim/run.js';
import { controllerProblem, type ControllerName } from '../../sim/controllers.js';
import { defaultPolicyPath } from '../../sim/resolve.js';
import { formatSimSummary } from '../../sim/format.js';
import { createTraceWriter, type TraceWriter } from '../../trace/writer.js';
import { openDecisionsOut, type DecisionsOut } from '../../replay/decisions-out.js';
import { createProgress } from '../progress.js';
import { UserError } from '../../util/errors.js';
import { openRunOutputs, simulationSample } from '../../report/run-outputs.js';
import { typedText } from '../typed.js';

interface SimulateArgs {
  device: string;
  scenario: string;
  policy?: string;
  controller: string;
  seed?: number;
  json: boolean;
  traceOut?: string;
  decisions?: string;
  report?: string;
  perfetto?: string;
}

export function parseSeed(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UserError(`--seed must be an integer, got '${typedText('--seed', v)}'`);
  return n;
}

export const simulateCommand: CommandModule<object, SimulateArgs> = {
  command: 'simulate',
  describe: 'Closed-loop simulation of a device, scenario and controller (SPEC §9 scores)',
  builder: (y: Argv) =>
    y
      .option('device', { type: 'string', default: 'flagship-phone', describe: 'device model: a name from sim/devices/ or a path' })
      .option('scenario', { type: 'string', default: 'sustained-chat', describe: 'scenario: a name from sim/scenarios/ or a path' })
      .option('policy', { type: 'string', describe: "policy YAML (default: the device's class policy, else policies/default.yaml)" })
      .option('controller', { type: 'string', default: 'edgegov', describe: 'who turns the knobs: edgegov | static | static:<tier> | stepwise | pid' })
      .option('seed', { type: 'number', describe: "random seed (default: the scenario's)" })
      .option('json', { type: 'boolean', default: false, describe: 'print the summary as JSON on stdout, nothing else' })
      .option('trace-out', { type: 'string', describe: 'write the samples the controller saw to this trace (CSV or JSONL); replays to the same decisions' })
      .option('decisions', { type: 'string', describe: 'write the first decision and every change to this JSONL file' })
      .option('report', { type: 'string', describe: 'write a self-contained HTML report with plots to this file' })
      .option('perfetto', { type: 'string', describe: 'write a Chrome trace-event JSON for ui.perfetto.dev to this file' })
      .example('$0 simulate --device flagship-phone --scenario hot-car --json', '')
      .example('$0 simulate --device rk3588 --scenario long-document --controller stepwise --trace-out run.csv', '') as unknown as Argv<SimulateArgs>,
  handler: async (argv) => {
    const seed = parseSeed(argv.seed);
    if (argv.controller === 'best-static') {
      throw new UserError("'best-static' is the best of several runs: use `edgegov compare --controllers best-static`, or simulate one tier with --controller static:<tier>");
    }
    const device = loadDevice(argv.device);
    const scenario = loadScenario(argv.scenario);
    const policy = await loadPolicyFile(argv.policy ?? defaultPolicyPath(device));
    const problem = controllerProblem(argv.controller, policy);
    if (problem) throw new UserError(problem);
    const controller: ControllerName = argv.controller;
    let trace: TraceWriter | undefined;
    let decisions: DecisionsOut | undefined;
    const outputs = openRunOutputs({
      report: argv.report, perfetto: argv.perfetto, kind: 'simulate', label: controller, policy,
      title: `edgegov simulate: ${device.name} · ${scenario.name} · ${controller}`, subtitle: `device ${device.name}, scenario ${scenario.name}, controller ${controller}`,
      metadata: { device: device.name, scenario: scenario.name, controller },
    });
    const progress = createProgress({ total: scenario.durationS * 1000, label: 'simulate', enabled: !argv.json });
    let summary;
    try {
      decisions = argv.decisions !== undefined ? openDecisionsOut(argv.decisions) : undefined;
      summary = runSimulation({
        device, scenario, policy, controller, seed,
        onStart: argv.traceOut === undefined ? undefined : (signals) => {
          trace = createTraceWriter(argv.traceOut!, ['t_ms', ...signals], {
            comments: [`edgegov simulate: device=${device.name} scenario=${scenario.name} controller=${controller} policy=${policy.name} seed=${seed ?? scenario.seed}`],
          });
        },
        onSample: argv.traceOut === undefined ? undefined : (s) => trace!.write(s),
        onDecision: decisions ? (d) => decisions!.write(d) : undefined,
        onProgress: (done) => progress.update(done),
        onStep: outputs ? (rec) => outputs.step(simulationSample(rec), rec.decision, false) : undefined,
      });
    } finally {
      progress.done();
      decisions?.close();
      await trace?.close();
    }
    const written = (await outputs?.close(summary)) ?? [];
    process.stdout.write(argv.json ? JSON.stringify(summary, null, 2) + '\n' : formatSimSummary(summary));
    if (!argv.json) for (const f of written) process.stderr.write(`edgegov: wrote ${f}\n`);
  },
};
