/**
 * Reading a calibration table written by `edgegov calibrate --out` (format: docs/inference.md
 * §4), for a governor or `advise` that wants measured speeds instead of a bandwidth model.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { envErrorFrom, UserError } from '../util/errors.js';
import { CALIBRATION_VERSION, type CalibrationTable, type TierMeasurement } from './calibrate.js';

const num = z.number().refine((x) => Number.isFinite(x) || Number.isNaN(x), 'must be a number');
const tierSchema = z.object({
  tier: z.string(),
  quant: z.string(),
  modelFile: z.string().optional(),
  modelBytes: z.number().nonnegative().optional(),
  contextLength: z.number().int().positive(),
  batchSize: z.number().int().positive(),
  threads: z.number().int().positive(),
  pacingMs: z.number().nonnegative(),
  decodeTokS: num,
  pacedDecodeTokS: num,
  prefillTokS: num,
  firstTokenMs: num,
  rssBytes: z.number().nonnegative(),
  switchInMs: z.number().nonnegative(),
});
const knob = z.enum(['quant', 'contextLength', 'batchSize', 'threads', 'pacingMs']);
const tableSchema = z.object({
  version: z.literal(CALIBRATION_VERSION),
  engine: z.string(),
  measuredAt: z.string(),
  machine: z.object({ cpu: z.string(), cores: z.number(), node: z.string(), platform: z.string() }),
  promptTokens: z.number().int().positive(),
  generatedTokens: z.number().int().positive(),
  tiers: z.array(tierSchema),
  switches: z.array(z.object({
    knob, from: z.union([z.string(), z.number()]), to: z.union([z.string(), z.number()]), ms: z.number().nonnegative(),
    carriedOver: z.string().optional(), keptTokens: z.number().optional(),
  })),
  switchCostMs: z.partialRecord(knob, z.number().nonnegative()),
});

/** Validates parsed JSON; problems name the field (`tiers[1].decodeTokS: …`). */
export function parseCalibrationTable(data: unknown, file = '<table>'): CalibrationTable {
  const r = tableSchema.safeParse(data);
  if (!r.success) {
    throw new UserError(`${file}: not a calibration table (version ${CALIBRATION_VERSION})`,
      r.error.issues.map((i) => `${file}: ${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(root)'}: ${i.message}`));
  }
  return r.data as CalibrationTable;
}

export async function readCalibrationTable(path: string): Promise<CalibrationTable> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw envErrorFrom(err, path);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${path}: not JSON: ${(err as Error).message}`);
  }
  return parseCalibrationTable(data, path);
}

/** The measurement for a tier, by name (or by quant when the table was measured per model file). */
export function measuredTier(table: CalibrationTable, tier: string, quant?: string): TierMeasurement | undefined {
  return table.tiers.find((t) => t.tier === tier) ?? (quant ? table.tiers.find((t) => t.quant === quant) : undefined);
}
