/**
 * `edgegov trace convert <in> --out <trace> --map <expr>...` — foreign traces into the
 * canonical format (SPEC §4). The expression language is in src/trace/expr.ts and
 * docs/traces.md (with recipes for the real traces).
 */
import type { Argv, CommandModule } from 'yargs';
import { convertTrace, type InputFormat } from '../../trace/convert.js';
import { UserError } from '../../util/errors.js';
import { typedText } from '../typed.js';

interface ConvertArgs {
  input: string;
  out: string;
  map: string[];
  inputFormat?: InputFormat;
  headerLine?: number;
  rows?: string;
  lenient: boolean;
  strict: boolean;
  json: boolean;
}

const convert: CommandModule<object, ConvertArgs> = {
  command: 'convert <input>',
  describe: 'Convert a foreign trace (CSV, JSON, JSONL, YAML) into a canonical trace with --map expressions',
  builder: (y: Argv) =>
    y
      .positional('input', { type: 'string', describe: 'foreign trace file', demandOption: true })
      .option('out', { type: 'string', demandOption: true, describe: 'canonical trace to write (.csv, or .jsonl/.ndjson)' })
      .option('map', {
        type: 'string',
        array: true,
        demandOption: true,
        describe: "target=expression, repeatable: 't_ms=t_s*1000', 'soc_c=max(T_gpuss-*_c,T_cpu-*_c)', 'zone.*=T_*_c'",
      })
      .option('input-format', { type: 'string', choices: ['csv', 'json', 'jsonl', 'yaml'], describe: 'input format (default: by extension, else sniffed)' })
      .option('header-line', { type: 'number', describe: 'CSV: 1-based line number of the header (default: the first non-comment line)' })
      .option('rows', { type: 'string', describe: 'JSON/YAML: dotted path to the array of rows (default: found automatically)' })
      .option('strict', { type: 'boolean', default: true, describe: 'stop at the first bad row (default)' })
      .option('lenient', { type: 'boolean', default: false, describe: 'skip bad rows and count them' })
      .option('json', { type: 'boolean', default: false, describe: 'print the conversion result as JSON' })
      .example("$0 trace convert s25.flat.csv --out s25.csv --map 't_ms=t_s*1000' --map 'soc_c=max(T_gpuss-*_c,T_cpu-*_c)'", '') as unknown as Argv<ConvertArgs>,
  handler: async (argv) => {
    if (argv.headerLine !== undefined && (!Number.isInteger(argv.headerLine) || argv.headerLine < 1)) {
      throw new UserError(`--header-line: '${typedText('--header-line', argv.headerLine)}' must be a line number (1, 2, …)`);
    }
    const result = await convertTrace({
      input: argv.input,
      output: argv.out,
      maps: argv.map.map(String),
      inputFormat: argv.inputFormat,
      headerLine: argv.headerLine,
      rowsPath: argv.rows,
      mode: argv.lenient ? 'lenient' : 'strict',
    });
    if (argv.json) {
      process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      return;
    }
    for (const w of result.warnings) process.stderr.write(`edgegov: warning: ${w}\n`);
    const skipped = result.skippedRows > 0
      ? `; skipped ${plural(result.skippedRows, 'row')} (${Object.entries(result.skippedByKind).map(([k, v]) => `${k} ${v}`).join(', ')})`
      : '';
    process.stdout.write(
      `wrote ${plural(result.samples, 'sample')} × ${plural(result.columns.length, 'column')} (${result.columns.join(', ')}) to ${result.output}${skipped}\n`,
    );
  },
};

export const traceCommand: CommandModule = {
  command: 'trace',
  describe: 'Trace tools (convert)',
  builder: (y: Argv) => y.command(convert as unknown as CommandModule).demandCommand(1, 'Name a trace action: convert'),
  handler: () => {},
};

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
