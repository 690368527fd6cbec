import type { CommandModule } from 'yargs';
import { EnvError } from '../util/errors.js';

/** A command of SPEC §6 whose implementation has not landed yet: registered, says so, exits 2. */
export function notBuilt(command: string, describe: string): CommandModule {
  return {
    command,
    describe: `${describe} (not built yet)`,
    builder: (y) => y.strict(false),
    handler: () => {
      throw new EnvError(`'${command.split(' ')[0]}' is not built yet in this version of edgegov`);
    },
  };
}
