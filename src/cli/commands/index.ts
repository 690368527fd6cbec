/**
 * Every command of SPEC §6, registered explicitly (yargs 18 does not derive names from files).
 * Each lives in its own module so the parts of the tool can grow independently.
 */
import type { CommandModule } from 'yargs';
import { notBuilt } from '../not-built.js';
import { runCommand } from './run.js';
import { statusCommand } from './status.js';
import { reloadCommand } from './reload.js';
import { replayCommand } from './replay.js';
import { modelCommand } from './model.js';
import { policyCommand } from './policy.js';

export const commands: CommandModule[] = [
  runCommand as unknown as CommandModule,
  notBuilt('validate <policy..>', 'Check policy files; one file:line:col: message per problem'),
  notBuilt('schema', 'Print the policy JSON Schema (draft-07)'),
  replayCommand as unknown as CommandModule,
  notBuilt('simulate', 'Closed-loop simulation of a device, scenario and controller'),
  notBuilt('compare', 'Run controllers × scenarios and print a score table'),
  notBuilt('trace <action>', 'Trace tools (convert)'),
  policyCommand,
  notBuilt('record', 'Record live sensors into a trace'),
  notBuilt('inventory', 'Show the device and the sensors found'),
  statusCommand as unknown as CommandModule,
  reloadCommand as unknown as CommandModule,
  modelCommand,
  notBuilt('serve', 'OpenAI-compatible governed gateway on loopback'),
  notBuilt('calibrate', 'Measure each tier on this machine\'s engine'),
];
