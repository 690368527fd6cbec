/**
 * Every command of SPEC §6, registered explicitly (yargs 18 does not derive names from files).
 * Each lives in its own module so the parts of the tool can grow independently.
 */
import type { CommandModule } from 'yargs';
import { notBuilt } from '../not-built.js';
import { validateCommand } from './validate.js';
import { schemaCommand } from './schema.js';
import { runCommand } from './run.js';
import { statusCommand } from './status.js';
import { reloadCommand } from './reload.js';
import { replayCommand } from './replay.js';
import { traceCommand } from './trace.js';
import { modelCommand } from './model.js';
import { serveCommand } from './serve.js';
import { calibrateCommand } from './calibrate.js';
import { policyCommand } from './policy.js';
import { simulateCommand } from './simulate.js';
import { compareCommand } from './compare.js';
import { recordCommand } from './record.js';
import { inventoryCommand } from './inventory.js';

export const commands: CommandModule[] = [
  runCommand as unknown as CommandModule,
  validateCommand as unknown as CommandModule,
  schemaCommand,
  replayCommand as unknown as CommandModule,
  simulateCommand as unknown as CommandModule,
  compareCommand as unknown as CommandModule,
  traceCommand,
  policyCommand,
  recordCommand as unknown as CommandModule,
  inventoryCommand as unknown as CommandModule,
  statusCommand as unknown as CommandModule,
  reloadCommand as unknown as CommandModule,
  modelCommand,
  serveCommand as unknown as CommandModule,
  calibrateCommand as unknown as CommandModule,
];
