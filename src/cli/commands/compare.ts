/**
 * `edgegov compare`: controllers × scenarios × devices, one table (or `--json`), plus the
 * issue-5 acceptance verdict per device × scenario for the edgegov controller.
 */
import type { Argv, CommandModule } from 'yargs';
import { loadPolicyFile } from '../../policy/load.js';
import type { Policy } from '../../policy/types.js';
import { listDevices, loadDevice } from '../../sim/device.js';
import { listScenarios, loadScenario } from '../../sim/scenario.js';
import { CONTROLLERS, type ControllerName } from '../../sim/controllers.js';
import { defaultPolicyPath, listArg } from '../../sim/resolve.js';
import { runCompare, type CompareJob } from '../../sim/compare.js';
import { formatCompareTable, formatCellTable } from '../../sim/format.js';
import { createProgress } from '../progress.js';
import { UserError } from '../../util/errors.js';
import { checkWritable, runCompareWithReport } from '../../report/run-outputs.js';

interface CompareArgs {
  policy?: string;
  devices?: string | string[];
  scenarios?: string | string[];
  controllers?: string | string[];
  json: boolean;
  markdown: boolean;
  report?: string;
}

export const compareCommand: CommandModule<object, CompareArgs> = {
  command: 'compare',
  describe: 'Run controllers × scenarios (× devices) and print a score table',
  builder: (y: Argv) =>
    y
      .option('policy', { type: 'string', describe: "one policy for every device (default: each device's class policy)" })
      .option('devices', { type: 'string', array: true, describe: 'device names or paths, comma-separated (default: all shipped)' })
      .option('scenarios', { type: 'string', array: true, describe: 'scenario names or paths, comma-separated (default: all shipped)' })
      .option('controllers', { type: 'string', array: true, describe: `controllers (default: ${CONTROLLERS.join(',')})` })
      .option('json', { type: 'boolean', default: false, describe: 'print { runs, cells } as JSON on stdout, nothing else' })
      .option('markdown', { type: 'boolean', default: false, describe: 'print the table as Markdown' })
      .option('cells', { type: 'boolean', default: false, describe: 'one row per device × scenario with every controller side by side' })
      .option('report', { type: 'string', describe: 'write a self-contained HTML report (controllers overlaid per device × scenario, score table)' })
      .example('$0 compare --devices flagship-phone --scenarios hot-car,bursty', '')
      .example('$0 compare --policy policies/default.yaml --controllers edgegov,static --json', '') as unknown as Argv<CompareArgs>,
  handler: async (argv) => {
    const deviceNames = listArg(argv.devices);
    const scenarioNames = listArg(argv.scenarios);
    const controllerNames = listArg(argv.controllers);
    for (const c of controllerNames) {
      if (!(CONTROLLERS as readonly string[]).includes(c)) throw new UserError(`unknown controller '${c}' (choose from ${CONTROLLERS.join(', ')})`);
    }
    const devices = (deviceNames.length ? deviceNames : listDevices()).map(loadDevice);
    const scenarios = (scenarioNames.length ? scenarioNames : listScenarios()).map(loadScenario);
    const controllers = (controllerNames.length ? controllerNames : [...CONTROLLERS]) as ControllerName[];
    const shared = argv.policy !== undefined ? await loadPolicyFile(argv.policy) : undefined;
    const policies = new Map<string, Policy>();
    const jobs: CompareJob[] = [];
    for (const device of devices) {
      let policy = shared;
      if (!policy) {
        const path = defaultPolicyPath(device);
        policy = policies.get(path) ?? (await loadPolicyFile(path));
        policies.set(path, policy);
      }
      for (const scenario of scenarios) for (const controller of controllers) jobs.push({ device, policy, scenario, controller });
    }
    if (argv.report !== undefined) checkWritable(argv.report);
    const progress = createProgress({ total: jobs.length, label: 'compare', enabled: !argv.json });
    let result;
    try {
      result = argv.report !== undefined
        ? runCompareWithReport(jobs, argv.report, (done) => progress.update(done)).result
        : runCompare(jobs, (done) => progress.update(done));
    } finally {
      progress.done();
    }
    if (argv.json) { process.stdout.write(JSON.stringify(result, null, 2) + '\n'); return; }
    let out = argv.cells ? formatCellTable(result.runs, argv.markdown) : formatCompareTable(result.runs, argv.markdown);
    if (result.cells.length) {
      const failing = result.cells.filter((c) => !c.holds);
      // Without a baseline in the run, "≥ every baseline" would hold vacuously: say what was judged.
      const baselines = result.runs.some((r) => r.controller !== 'edgegov');
      out += `\nedgegov holds on ${result.cells.length - failing.length}/${result.cells.length} device × scenario cells` +
        (baselines ? ' (0 s at critical, 0 OOM, decode floor held, ≥ quality-weighted tokens of every baseline)\n'
          : ' (0 s at critical, 0 OOM, decode floor held; no baseline controller in this run to compare tokens against)\n');
      for (const c of failing) {
        out += `  ✗ ${c.device} · ${c.scenario}: critical ${c.criticalS} s, OOM ${c.oomEvents}, below floor ${c.belowFloorS} s, QWT margin ${c.qwtMargin} vs ${c.bestBaseline}\n`;
      }
    }
    process.stdout.write(out);
    if (argv.report !== undefined) process.stderr.write(`edgegov: wrote ${argv.report}\n`);
  },
};
