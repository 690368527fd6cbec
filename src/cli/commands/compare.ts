/**
 * `edgegov compare`: controllers × scenarios × devices, one table (or `--json`), plus the
 * issue-5 acceptance verdict per device × scenario for the edgegov controller.
 */
import type { Argv, CommandModule } from 'yargs';
import { loadPolicyFile } from '../../policy/load.js';
import type { Policy } from '../../policy/types.js';
import { listDevices, loadDevice } from '../../sim/device.js';
import { listScenarios, loadScenario } from '../../sim/scenario.js';
import { CONTROLLERS, controllerProblem, type ControllerName } from '../../sim/controllers.js';
import { defaultPolicyPath, listArg } from '../../sim/resolve.js';
import { BEST_STATIC_CELL_RATIO, runCompare, summedVsBestStatic, type CompareJob } from '../../sim/compare.js';
import { formatCompareTable, formatCellTable } from '../../sim/format.js';
import { createProgress } from '../progress.js';
import { UserError } from '../../util/errors.js';
import { checkWritable, runCompareWithReport } from '../../report/run-outputs.js';

interface CompareArgs {
  policy?: string;
  devices?: string | string[];
  scenarios?: string | string[];
  controllers?: string | string[];
  seeds?: string;
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
      .option('controllers', { type: 'string', array: true, describe: `controllers (default: ${CONTROLLERS.join(',')}; also static:<tier>)` })
      .option('seeds', { type: 'string', describe: "seeds to run every cell at: a list or ranges, e.g. 1-20 or 1,5,9 (default: each scenario's own)" })
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
    const seeds = argv.seeds === undefined ? [undefined] : parseSeeds(argv.seeds);
    const devices = (deviceNames.length ? deviceNames : listDevices()).map(loadDevice);
    const scenarios = (scenarioNames.length ? scenarioNames : listScenarios()).map(loadScenario);
    const controllers: ControllerName[] = controllerNames.length ? controllerNames : [...CONTROLLERS];
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
      for (const controller of controllers) {
        const problem = controller === 'best-static' ? undefined : controllerProblem(controller, policy);
        if (problem) throw new UserError(problem);
      }
      for (const seed of seeds) for (const scenario of scenarios) for (const controller of controllers) jobs.push({ device, policy, scenario, controller, seed });
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
      const judged = [
        '0 s at critical, 0 OOM, decode floor held',
        result.runs.some((r) => r.controller === 'best-static') ? `score ≥ ${BEST_STATIC_CELL_RATIO}× best-static` : '',
        result.runs.some((r) => r.controller === 'stepwise' || r.controller === 'pid') ? '≥ stepwise and pid' : '',
      ].filter(Boolean).join(', ');
      out += `\nedgegov holds on ${result.cells.length - failing.length}/${result.cells.length} cells (${judged})\n`;
      const summed = summedVsBestStatic(result.cells);
      if (summed !== undefined) {
        const frugal = result.cells.filter((c) => c.energyPerScoreVsBestStatic !== undefined && c.energyPerScoreVsBestStatic <= 1).length;
        out += `score summed over cells: ${summed.toFixed(3)}× best-static; energy per unit of score ≤ best-static's on ${frugal}/${result.cells.length} cells\n`;
      }
      for (const c of failing) {
        out += `  ✗ ${c.device} · ${c.scenario} · seed ${c.seed}: critical ${c.criticalS} s, OOM ${c.oomEvents}, below floor ${c.belowFloorS} s` +
          `${c.vsBestStatic !== undefined ? `, ${c.vsBestStatic.toFixed(3)}× best-static (${c.bestStaticTier})` : ''}${c.vsKernel !== undefined ? `, ${c.vsKernel.toFixed(3)}× best of stepwise/pid` : ''}\n`;
      }
    }
    process.stdout.write(out);
    if (argv.report !== undefined) process.stderr.write(`edgegov: wrote ${argv.report}\n`);
  },
};

/** `1-20`, `1,5,9`, `3`: the seeds to run; a malformed list is the user's error. */
export function parseSeeds(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',').map((x) => x.trim()).filter(Boolean)) {
    const m = /^(-?\d+)(?:-(-?\d+))?$/.exec(part);
    if (!m) throw new UserError(`--seeds: '${part}' is not a seed or a range like 1-20`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new UserError(`--seeds: range '${part}' runs backwards`);
    if (b - a > 10_000) throw new UserError(`--seeds: range '${part}' is longer than 10 000 seeds`);
    for (let x = a; x <= b; x++) out.push(x);
  }
  if (!out.length) throw new UserError('--seeds: no seed given');
  return [...new Set(out)];
}
