/** `edgegov calibrate`: measure each tier on this machine's engine (docs/inference.md). */
import type { Argv, CommandModule } from 'yargs';
import { writeFile } from 'node:fs/promises';
import { loadPolicyFile } from '../../policy/load.js';
import { EnvError, UserError, envErrorFrom } from '../../util/errors.js';
import { calibrate, formatCalibration, tiersFromModels } from '../../engines/calibrate.js';
import { LlamaCppEngine } from '../../engines/llama-cpp/engine.js';
import { listModelFiles } from '../../engines/llama-cpp/models.js';
import { typedText } from '../typed.js';

interface CalibrateArgs {
  models: string;
  out?: string;
  policy?: string;
  threads: number;
  promptTokens: number;
  genTokens: number;
  json: boolean;
}

export const calibrateCommand: CommandModule<object, CalibrateArgs> = {
  command: 'calibrate',
  describe: 'Measure each tier on this machine\'s engine: tok/s, first-token time, RSS, switch cost per knob',
  builder: (y: Argv) =>
    y
      .option('models', { type: 'string', demandOption: true, describe: 'Directory with one GGUF per quant' })
      .option('out', { type: 'string', describe: 'Write the table as JSON here' })
      .option('policy', { type: 'string', describe: 'Measure this policy\'s tiers (default: one tier per model file)' })
      .option('threads', { type: 'number', default: 1, describe: 'Most threads any tier may use' })
      .option('prompt-tokens', { type: 'number', default: 128, describe: 'Prompt length of each measured request (prefill tok/s, first-token time)' })
      .option('gen-tokens', { type: 'number', default: 32, describe: 'Tokens generated per measured request (decode tok/s)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the table as JSON' })
      .strict() as unknown as Argv<CalibrateArgs>,
  handler: async (argv) => {
    for (const [flag, v, max] of [['--threads', argv.threads, 256], ['--prompt-tokens', argv.promptTokens, 16384], ['--gen-tokens', argv.genTokens, 4096]] as const) {
      if (!Number.isInteger(v) || v < 1 || v > max) throw new UserError(`${flag}: '${typedText(flag, v)}' must be an integer from 1 to ${max}`);
    }
    const files = listModelFiles(argv.models);
    if (!files.length) throw new EnvError(`${argv.models}: no .gguf model files (write some with 'edgegov model synth --out ${argv.models}')`);
    const tiers = argv.policy ? (await loadPolicyFile(argv.policy)).tiers : tiersFromModels(argv.models);
    for (const t of tiers) {
      if (t.contextLength < argv.promptTokens + argv.genTokens + 64) {
        throw new UserError(`tier ${t.name}: contextLength ${t.contextLength} is too small for --prompt-tokens ${argv.promptTokens} + --gen-tokens ${argv.genTokens}`);
      }
    }
    let engine: LlamaCppEngine;
    try {
      engine = await LlamaCppEngine.open({ modelsDir: argv.models, maxThreads: Math.max(2, argv.threads) });
    } catch (err) {
      throw new EnvError(`cannot load the llama.cpp runtime: ${(err as Error).message}`);
    }
    try {
      const table = await calibrate({
        engine, modelsDir: argv.models, tiers, threads: argv.threads,
        promptTokens: argv.promptTokens, generatedTokens: argv.genTokens,
        onProgress: argv.json ? undefined : (l) => process.stderr.write(`calibrate: ${l}\n`),
      });
      if (argv.out) await writeFile(argv.out, JSON.stringify(table, null, 2) + '\n').catch((e: unknown) => { throw envErrorFrom(e, argv.out!); });
      process.stdout.write(argv.json ? JSON.stringify(table, null, 2) + '\n' : formatCalibration(table));
    } finally {
      await engine.close();
    }
  },
};
