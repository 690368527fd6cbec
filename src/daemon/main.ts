/**
 * A lean entry for service managers: `node dist/daemon/main.js --policy <p> …` takes the same
 * options as `edgegov run` but loads only the daemon, not every command of the CLI (the full
 * CLI pulls in the inference engine bindings and report tooling: ~35 MB more RSS on a board).
 * deploy/edgegov.service and deploy/edgegov.rc use it.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import type { CommandModule } from 'yargs';
import { runCommand } from '../cli/commands/run.js';
import { EnvError, UserError } from '../util/errors.js';

async function main(argv: string[]): Promise<number> {
  try {
    await yargs(argv)
      .scriptName('edgegov-daemon')
      .command({ ...(runCommand as unknown as CommandModule), command: '$0' })
      .strict()
      .help()
      .exitProcess(false)
      .fail((msg, err) => {
        if (err) throw err;
        throw new UserError(msg);
      })
      .parseAsync();
    return 0;
  } catch (err) {
    if (err instanceof UserError || err instanceof EnvError) {
      process.stderr.write(`edgegov: ${err.message}\n`);
      if (err instanceof UserError) for (const d of err.details) process.stderr.write(`${d}\n`);
      return err.exitCode;
    }
    process.stderr.write(`edgegov: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 2;
  }
}

process.exitCode = await main(hideBin(process.argv));
