/**
 * `edgegov demo`: daemon + governed gateway + real engine + load on a simulated device that
 * heats up, in one command (src/demo/run.ts). `npm run demo` runs it with the defaults.
 */
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { parseTimeArg } from '../../replay/time-arg.js';
import { UserError } from '../../util/errors.js';
import { typedText } from '../typed.js';

interface DemoArgs {
  device: string;
  scenario: string;
  speed: number;
  duration?: string;
  cloudUrl?: string;
  dataDir?: string;
  out?: string;
  seed: number;
  params: string;
  maxThreads: number;
  users: number;
  live?: boolean;
  policy?: string;
}

function lastOf<T>(v: T | T[]): T {
  return Array.isArray(v) ? v[v.length - 1] : v;
}

export const demoCommand: CommandModule<object, DemoArgs> = {
  command: 'demo',
  describe: 'The whole loop: daemon, governed gateway, real engine and requests on a simulated device that heats up',
  builder: (y: Argv) =>
    y
      .option('device', { type: 'string', coerce: lastOf, default: 'flagship-phone', describe: 'Simulated device (sim/devices/ name or a YAML path)' })
      .option('scenario', { type: 'string', coerce: lastOf, default: 'hot-car', describe: 'Scenario (sim/scenarios/ name or a YAML path)' })
      .option('speed', { type: 'number', coerce: lastOf, default: 10, describe: 'Device seconds per wall second (the engine\'s work stays real)' })
      .option('duration', { type: 'string', coerce: lastOf, describe: 'Wall time to run (30, 60s, 2min); default the scenario\'s length ÷ speed' })
      .option('cloud-url', { type: 'string', coerce: lastOf, describe: 'OpenAI-compatible base URL for offloaded requests; default a local stub' })
      .option('data-dir', { type: 'string', coerce: lastOf, describe: 'Models cache and runs (default $EDGEGOV_DATA_DIR, $XDG_CACHE_HOME/edgegov or ~/.cache/edgegov)' })
      .option('out', { type: 'string', coerce: lastOf, describe: 'Run directory (default <data-dir>/demo/<time>)' })
      .option('seed', { type: 'number', coerce: lastOf, default: 1, describe: 'Load generator seed' })
      .option('params', { type: 'string', coerce: lastOf, default: '20M', describe: 'Synthetic model size' })
      .option('max-threads', { type: 'number', coerce: lastOf, default: 1, describe: 'Most threads the real engine may use here' })
      .option('users', { type: 'number', coerce: lastOf, default: 2, describe: 'Simulated users sending requests' })
      .option('live', { type: 'boolean', describe: 'Live view (default: when stdout is a terminal); otherwise plain log lines' })
      .option('policy', { type: 'string', coerce: lastOf, describe: 'Policy for the synthetic models (default policies/synthetic.yaml)' })
      .strict() as unknown as Argv<DemoArgs>,
  handler: async (argv) => {
    const [{ runDemo }, { defaultDataDir }, { repoRoot }, { parseParamCount }] = await Promise.all([
      import('../../demo/run.js'), import('../../demo/models.js'), import('../../sim/device.js'), import('../../model/synth.js'),
    ]);
    if (!(argv.speed > 0 && argv.speed <= 1000)) throw new UserError(`--speed: expected a factor in (0, 1000], got ${typedText('--speed', argv.speed)}`);
    const durationMs = parseTimeArg('duration', argv.duration);
    if (durationMs !== undefined && !(durationMs > 0)) throw new UserError(`--duration: expected a positive time, got '${argv.duration}'`);
    if (!(Number.isInteger(argv.maxThreads) && argv.maxThreads >= 1 && argv.maxThreads <= 256)) throw new UserError(`--max-threads: expected an integer from 1 to 256, got ${typedText('--max-threads', argv.maxThreads)}`);
    if (!(Number.isInteger(argv.users) && argv.users >= 1 && argv.users <= 32)) throw new UserError(`--users: expected an integer from 1 to 32, got ${typedText('--users', argv.users)}`);
    if (!(Number.isInteger(argv.seed) && argv.seed >= 0)) throw new UserError(`--seed: expected an integer ≥ 0, got ${typedText('--seed', argv.seed)}`);
    const params = parseParamCount(argv.params);
    if (params === undefined) throw new UserError(`--params: '${argv.params}' is not a size like 2M or 20M`);
    if (argv.cloudUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(argv.cloudUrl)) throw new UserError(`--cloud-url: expected an http(s) URL, got '${argv.cloudUrl}'`);
    process.exitCode = await runDemo({
      device: argv.device, scenario: argv.scenario, speed: argv.speed, durationMs, cloudUrl: argv.cloudUrl,
      dataDir: argv.dataDir ?? defaultDataDir(), out: argv.out, seed: argv.seed, params, paramsLabel: argv.params.trim(),
      maxThreads: argv.maxThreads, users: argv.users, live: argv.live ?? Boolean(process.stdout.isTTY),
      policyPath: argv.policy ?? join(repoRoot, 'policies', 'synthetic.yaml'),
    }, { out: process.stdout, err: process.stderr });
  },
};
