/**
 * `edgegov policy import-pixel <thermal_info_config.json>`: a policy skeleton from a Pixel
 * Thermal HAL config (src/policy/import-pixel.ts). The YAML goes to stdout, or to `--out`;
 * it is validated with the same loader as `edgegov validate` before anything is written,
 * so a skeleton that would not load is never produced.
 */
import { writeFile } from 'node:fs/promises';
import type { Argv, CommandModule } from 'yargs';
import { DEFAULT_TEMPLATE_URL, importPixelFile } from '../../policy/import-pixel.js';
import { formatProblem, loadPolicyFile, parsePolicy } from '../../policy/load.js';
import { UserError } from '../../util/errors.js';
import { writeErrorFrom } from '../../trace/write-error.js';

interface ImportPixelArgs {
  config: string;
  out?: string;
  template?: string;
  json: boolean;
}

const importPixel: CommandModule<object, ImportPixelArgs> = {
  command: 'import-pixel <config>',
  describe: 'A policy YAML skeleton from a Pixel thermal HAL thermal_info_config.json',
  builder: (y: Argv) =>
    y
      .positional('config', { type: 'string', demandOption: true, describe: 'the Pixel thermal_info_config.json' })
      .option('out', { type: 'string', describe: 'write the policy here instead of stdout' })
      .option('template', { type: 'string', describe: 'policy whose model, tiers, rules and control are used (default policies/default.yaml)' })
      .option('json', { type: 'boolean', default: false, describe: 'print what was carried over per Pixel sensor as JSON (with --out)' })
      .example('$0 policy import-pixel thermal_info_config.json --out pixel.yaml', '')
      .strict() as unknown as Argv<ImportPixelArgs>,
  handler: async (argv) => {
    if (argv.json && argv.out === undefined) {
      throw new UserError('--json needs --out: without it the policy YAML is what goes to stdout');
    }
    const result = await importPixelFile(argv.config, argv.template ?? DEFAULT_TEMPLATE_URL);
    const outName = argv.out ?? '<stdout>';
    const check = parsePolicy(result.yaml, outName);
    if (check.problems.length > 0) {
      // The Pixel side always maps to valid YAML; a failure here comes from the template.
      // Report the template's own file:line:col when it is itself invalid, not the line its
      // text lands on in a skeleton the user never sees.
      if (argv.template !== undefined) await loadPolicyFile(argv.template);
      throw new UserError(
        `the imported policy does not validate (check the template ${argv.template ?? 'policies/default.yaml'})`,
        check.problems.map(formatProblem),
      );
    }
    if (argv.out !== undefined) {
      try {
        await writeFile(argv.out, result.yaml);
      } catch (err) {
        throw writeErrorFrom(err, argv.out);
      }
      const carried = result.sensors.filter((s) => s.signals.length > 0);
      if (argv.json) process.stdout.write(JSON.stringify({ out: argv.out, sensors: result.sensors }, null, 2) + '\n');
      else process.stderr.write(`edgegov: wrote ${argv.out}: thresholds of ${carried.length} of ${result.sensors.length} Pixel sensors carried over; see the comments at the top for the rest\n`);
      return;
    }
    process.stdout.write(result.yaml);
  },
};

export const policyCommand: CommandModule = {
  command: 'policy',
  describe: 'Policy tools (import-pixel)',
  builder: (y: Argv) => y.command(importPixel as unknown as CommandModule).demandCommand(1, 'Name a policy action: import-pixel'),
  handler: () => {},
};
