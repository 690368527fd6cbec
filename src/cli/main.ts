/**
 * The `edgegov` command line. Exit codes (SPEC §6): 0 success, 1 the input was wrong,
 * 2 the environment was wrong. No uncaught exception ever reaches the user.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { commandsFor } from './commands/index.js';
import { endQuietlyWhenStdoutCloses } from './closed-pipe.js';
import { EnvError, UserError } from '../util/errors.js';

export async function main(argv: string[] = hideBin(process.argv)): Promise<number> {
  endQuietlyWhenStdoutCloses(argv[0]);
  const parser = yargs(argv)
    .scriptName('edgegov')
    .usage('$0 <command> [options]\n\nEdge resource governor for on-device LLMs.')
    .demandCommand(1, 'Name a command; see --help for the list.')
    .recommendCommands()
    .strict()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(100, process.stdout.columns ?? 80))
    .exitProcess(false)
    // yargs' own wording names no argument; say what is missing in the user's terms.
    .updateStrings({
      // A plural form (y18n's { one, other }); @types/yargs 17 only knows plain strings.
      'Not enough non-option arguments: got %s, need at least %s': {
        one: 'missing a required argument (got %s, need at least %s): see the command\'s --help for its usage',
        other: 'missing a required argument (got %s, need at least %s): see the command\'s --help for its usage',
      },
    } as unknown as Record<string, string>)
    .fail((msg, err) => {
      if (err) throw err;
      // Throwing stops yargs here: the command's handler must not run after a flag error.
      throw new UserError(msg, ["Run 'edgegov --help' for usage."]);
    });
  try {
    for (const c of await commandsFor(argv)) parser.command(c);
    await parser.parseAsync();
  } catch (err) {
    return reportError(err);
  }
  return (process.exitCode as number | undefined) || 0;
}

/** Prints an error the way the user should see it and returns the exit code. */
export function reportError(err: unknown): number {
  if (err instanceof UserError) {
    process.stderr.write(`edgegov: ${err.message}\n`);
    for (const d of err.details) process.stderr.write(`${d}\n`);
    return 1;
  }
  if (err instanceof EnvError) {
    process.stderr.write(`edgegov: ${err.message}\n`);
    return 2;
  }
  // A bug of ours, not the user's: say so, with the stack, and exit 2.
  process.stderr.write(`edgegov: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  return 2;
}
