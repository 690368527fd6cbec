/**
 * Every command of SPEC §6, registered explicitly (yargs 18 does not derive names from files).
 *
 * Modules load lazily: only the command being run is imported, so `edgegov status` does not
 * pay for llama.cpp bindings and the daemon's resident memory holds only what `run` needs.
 * For `--help` (or an unknown command) every command is listed from this table.
 */
import type { CommandModule } from 'yargs';

interface CommandEntry {
  /** The first word on the command line. */
  name: string;
  /** Usage shown in the top-level help (the module's own `command` takes over once loaded). */
  usage: string;
  describe: string;
  load: () => Promise<CommandModule>;
}

const asModule = (m: unknown) => m as CommandModule;

export const commandTable: readonly CommandEntry[] = [
  { name: 'run', usage: 'run', describe: 'Run the governor daemon',
    load: async () => asModule((await import('./run.js')).runCommand) },
  { name: 'validate', usage: 'validate <policy..>', describe: 'Check policy files; one file:line:col: message per problem',
    load: async () => asModule((await import('./validate.js')).validateCommand) },
  { name: 'schema', usage: 'schema', describe: 'Print the policy JSON Schema (draft-07)',
    load: async () => asModule((await import('./schema.js')).schemaCommand) },
  { name: 'replay', usage: 'replay <trace>', describe: 'Run a recorded trace through the governor core and summarise',
    load: async () => asModule((await import('./replay.js')).replayCommand) },
  { name: 'simulate', usage: 'simulate', describe: 'Closed-loop simulation of a device, scenario and controller',
    load: async () => asModule((await import('./simulate.js')).simulateCommand) },
  { name: 'compare', usage: 'compare', describe: 'Run controllers × scenarios (× devices) and print a score table',
    load: async () => asModule((await import('./compare.js')).compareCommand) },
  { name: 'trace', usage: 'trace <action>', describe: 'Trace tools (convert)',
    load: async () => asModule((await import('./trace.js')).traceCommand) },
  { name: 'policy', usage: 'policy <action>', describe: 'Policy tools (import-pixel)',
    load: async () => asModule((await import('./policy.js')).policyCommand) },
  { name: 'record', usage: 'record', describe: 'Record live sensors into a trace',
    load: async () => asModule((await import('./record.js')).recordCommand) },
  { name: 'inventory', usage: 'inventory', describe: 'Show the device and the sensors found, classified',
    load: async () => asModule((await import('./inventory.js')).inventoryCommand) },
  { name: 'doctor', usage: 'doctor', describe: 'Check a board first: sensors, PSI triggers, reader, engine, socket, metrics port, fitting policy',
    load: async () => asModule((await import('./doctor.js')).doctorCommand) },
  { name: 'status', usage: 'status', describe: 'Ask a running daemon for its state',
    load: async () => asModule((await import('./status.js')).statusCommand) },
  { name: 'reload', usage: 'reload', describe: 'Ask a running daemon to re-read its policy',
    load: async () => asModule((await import('./reload.js')).reloadCommand) },
  { name: 'model', usage: 'model <action>', describe: 'Model tools (synth)',
    load: async () => asModule((await import('./model.js')).modelCommand) },
  { name: 'serve', usage: 'serve', describe: 'OpenAI-compatible governed gateway on loopback',
    load: async () => asModule((await import('./serve.js')).serveCommand) },
  { name: 'calibrate', usage: 'calibrate', describe: "Measure each tier on this machine's engine",
    load: async () => asModule((await import('./calibrate.js')).calibrateCommand) },
  { name: 'demo', usage: 'demo', describe: 'The whole loop on a simulated device that heats up: daemon, gateway, real engine, requests',
    load: async () => asModule((await import('./demo.js')).demoCommand) },
];

/** A help-only stand-in: lists the command without importing it. */
function listing(e: CommandEntry): CommandModule {
  return { command: e.usage, describe: e.describe, builder: (y) => y, handler: () => undefined };
}

/**
 * The command modules for this argv: the real module of the command being run, listings for
 * the rest. There are no global options that take values, so the first word that does not
 * start with `-` names the command.
 */
export async function commandsFor(argv: readonly string[]): Promise<CommandModule[]> {
  const first = argv.find((a) => !a.startsWith('-'));
  const chosen = commandTable.find((e) => e.name === first);
  return Promise.all(commandTable.map((e) => (e === chosen ? e.load() : listing(e))));
}
