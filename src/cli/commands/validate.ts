/**
 * `edgegov validate <policy..>`: checks policy files and reports every problem of every file.
 *
 * Exit 0 when all are valid; 1 when any is invalid (one `file:line:col: message` line per
 * problem on stderr); 2 when a file cannot be read. `--json` prints the machine form on
 * stdout: `{ valid, files: [{ file, valid, readable, error?, problems: [...] }] }`.
 */
import { readFile } from 'node:fs/promises';
import type { Argv, CommandModule } from 'yargs';
import { decodePolicyBytes, formatProblem, parsePolicy, type PolicyProblem } from '../../policy/load.js';
import { EnvError, envErrorFrom, UserError } from '../../util/errors.js';

interface ValidateArgs {
  policy: string[];
  json: boolean;
}

export interface FileReport {
  file: string;
  valid: boolean;
  readable: boolean;
  /** Why the file could not be read (readable = false). */
  error?: string;
  problems: PolicyProblem[];
}

export async function validateFile(file: string): Promise<FileReport> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    return { file, valid: false, readable: false, error: envErrorFrom(err, file).message, problems: [] };
  }
  const decoded = decodePolicyBytes(buf, file);
  const problems = 'problem' in decoded ? [decoded.problem] : parsePolicy(decoded.text, file).problems;
  return { file, valid: problems.length === 0, readable: true, problems };
}

export const validateCommand: CommandModule<object, ValidateArgs> = {
  command: 'validate <policy..>',
  describe: 'Check policy files; one file:line:col: message per problem',
  builder: (y: Argv) =>
    y
      .positional('policy', { type: 'string', array: true, demandOption: true, describe: 'policy YAML files' })
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable result on stdout' })
      .example('$0 validate policies/*.yaml', 'check every shipped policy') as unknown as Argv<ValidateArgs>,
  handler: async (argv) => {
    const reports: FileReport[] = [];
    for (const f of argv.policy) reports.push(await validateFile(f));
    const unreadable = reports.filter((r) => !r.readable);
    const invalid = reports.filter((r) => r.readable && !r.valid);

    if (argv.json) {
      process.stdout.write(`${JSON.stringify({ valid: unreadable.length === 0 && invalid.length === 0, files: reports }, null, 2)}\n`);
    } else {
      for (const r of reports) if (r.valid) process.stdout.write(`${r.file}: valid\n`);
      for (const r of invalid) for (const p of r.problems) process.stderr.write(`${formatProblem(p)}\n`);
    }
    const n = invalid.reduce((s, r) => s + r.problems.length, 0);
    const problems = `${n} problem${n === 1 ? '' : 's'} in ${invalid.length} of ${reports.length} polic${reports.length === 1 ? 'y' : 'ies'}`;
    if (unreadable.length > 0) {
      // Exit 2 wins, but the count of the files that were read must not be lost.
      throw new EnvError([...unreadable.map((r) => r.error), ...(invalid.length > 0 ? [problems] : [])].join('; '));
    }
    if (invalid.length > 0) throw new UserError(problems);
  },
};
