/** `edgegov model synth`: synthetic random-weight GGUF models, one file per quant tier. */
import type { Argv, CommandModule } from 'yargs';
import { EnvError, UserError, envErrorFrom } from '../../util/errors.js';
import { formatParamCount, parseParamCount, SYNTH_QUANTS, synthesizeModels } from '../../model/synth.js';
import type { GgmlType } from '../../model/quant.js';
import { typedText } from '../typed.js';

interface SynthArgs {
  out: string;
  params: string;
  quants: string;
  seed: number;
  json: boolean;
}

const MAX_PARAMS = 2e9;
const MIN_PARAMS = 1e5;

export function parseQuantList(text: string): GgmlType[] {
  const names = text.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (names.length === 0) throw new UserError('--quants: name at least one quant (f32, f16, q8_0, q4_0)');
  for (const n of names) {
    if (!(SYNTH_QUANTS as readonly string[]).includes(n)) {
      throw new UserError(`--quants: unknown quant '${n}'; choose from ${SYNTH_QUANTS.join(', ')}`);
    }
  }
  return names as GgmlType[];
}

const synth: CommandModule<object, SynthArgs> = {
  command: 'synth',
  describe: 'Write synthetic random-weight Llama GGUF models (one per quant) — they produce gibberish, for testing only',
  builder: (y: Argv) =>
    y
      .option('out', { type: 'string', demandOption: true, describe: 'Output directory' })
      .option('params', { type: 'string', default: '20M', describe: 'Target parameter count, e.g. 2M, 20M, 500K' })
      .option('quants', { type: 'string', default: 'f16,q8_0,q4_0', describe: 'Comma-separated quants: f32, f16, q8_0, q4_0' })
      .option('seed', { type: 'number', default: 1, describe: 'Seed for the random weights (same seed → byte-identical files)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the manifest as JSON' })
      .strict() as unknown as Argv<SynthArgs>,
  handler: async (argv) => {
    const params = parseParamCount(String(argv.params));
    if (params === undefined) throw new UserError(`--params: '${argv.params}' is not a size like 2M, 20M or 500K`);
    if (params < MIN_PARAMS || params > MAX_PARAMS) {
      throw new UserError(`--params: ${argv.params} is outside ${formatParamCount(MIN_PARAMS)}..${formatParamCount(MAX_PARAMS)}`);
    }
    if (!Number.isInteger(argv.seed) || argv.seed < 0 || argv.seed > 0xffffffff) {
      throw new UserError(`--seed: '${typedText('--seed', argv.seed)}' must be an integer from 0 to 4294967295`);
    }
    const quants = parseQuantList(String(argv.quants));
    let result;
    try {
      result = await synthesizeModels({ outDir: argv.out, params, quants, seed: argv.seed, label: String(argv.params).trim() });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // An output directory that cannot be made: "no such file" would read as if we expected it to exist.
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EROFS') {
        const why = code === 'ENOTDIR' ? 'a part of the path is a file' : code === 'EROFS' ? 'read-only file system' : 'the file system refuses it there';
        throw new EnvError(`--out ${argv.out}: cannot create the output directory (${why})`);
      }
      if (code) throw envErrorFrom(err, argv.out);
      throw err;
    }
    if (argv.json) {
      process.stdout.write(JSON.stringify(result.manifest, null, 2) + '\n');
      return;
    }
    const s = result.manifest.shape;
    process.stdout.write(
      `synthetic random-weight Llama, ${formatParamCount(result.manifest.params)} params ` +
      `(embd ${s.embeddingLength}, ${s.blockCount} layers, ffn ${s.feedForwardLength}, heads ${s.headCount}/${s.headCountKv}), seed ${argv.seed}\n`,
    );
    for (const f of result.files) process.stdout.write(`  ${f.quant.padEnd(5)} ${f.path}  ${(f.bytes / 1048576).toFixed(1)} MiB\n`);
    process.stdout.write('These models were never trained: their output is gibberish.\n');
  },
};

export const modelCommand: CommandModule = {
  command: 'model',
  describe: 'Model tools (synth)',
  builder: (y: Argv) => y.command(synth as unknown as CommandModule).demandCommand(1, 'Name a model action: synth'),
  handler: () => {},
};
