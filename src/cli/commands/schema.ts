/** `edgegov schema`: the policy JSON Schema (draft-07), generated from the zod schema. */
import type { CommandModule } from 'yargs';
import { policyJsonSchema } from '../../policy/schema.js';

/** The exact text committed as policies/schema/policy.schema.json. */
export function policySchemaText(): string {
  return `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
}

export const schemaCommand: CommandModule = {
  command: 'schema',
  describe: 'Print the policy JSON Schema (draft-07)',
  builder: (y) => y,
  handler: () => {
    process.stdout.write(policySchemaText());
  },
};
