#!/usr/bin/env node
// Writes policies/schema/policy.schema.json from the zod schema (run after `npm run build`;
// `npm run gen:schema` does both). test/policy/schema.test.ts fails when the copy drifts.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { policySchemaText } from '../dist/cli/commands/schema.js';

const out = fileURLToPath(new URL('../policies/schema/policy.schema.json', import.meta.url));
writeFileSync(out, policySchemaText());
console.log(`wrote ${out}`);
