/**
 * The raw YAML shape of a policy (zod 4), the single source of truth for structure and for
 * the JSON Schema editors use (`edgegov schema`, policies/schema/policy.schema.json).
 *
 * Objects are strict: an unknown key is an error (with a "did you mean"), because a typo
 * that is silently ignored is how thermal configs go wrong (research/01 §2.3, Pixel's
 * lexicon checker). Values with units are `number | string` here; the loader parses the
 * units and checks everything that crosses fields (see compile.ts).
 */
import { z } from 'zod';
import { SEVERITIES, THRESHOLD_SEVERITIES } from '../core/severity.js';
import { anyUnitPattern, DEFAULT_UNIT, EXAMPLE, unitPattern, type UnitKind } from './units.js';

/** The unit kind of each canonical signal a policy may name (SPEC §3; `t_ms` is not a sensor). */
export const SIGNAL_KIND = {
  soc_c: 'temperature',
  skin_c: 'temperature',
  battery_c: 'temperature',
  ambient_c: 'temperature',
  battery_w: 'power',
  battery_pct: 'percent',
  charging: 'count',
  mem_avail_mb: 'memMiB',
  mem_total_mb: 'memMiB',
  psi_mem_some_avg10: 'percent',
  psi_mem_full_avg10: 'percent',
  tok_s: 'tokRate',
} as const satisfies Record<string, UnitKind>;
export type SensorSignal = keyof typeof SIGNAL_KIND;
export const SENSOR_SIGNALS = Object.keys(SIGNAL_KIND) as SensorSignal[];

const SIGNAL_HELP: Record<SensorSignal, string> = {
  soc_c: 'SoC hotspot, °C (max over CPU/GPU/NPU die zones)',
  skin_c: 'skin / chassis temperature, °C',
  battery_c: 'battery temperature, °C',
  ambient_c: 'ambient temperature, °C',
  battery_w: 'battery power, W, positive = discharging',
  battery_pct: 'state of charge, %',
  charging: 'external power present and charging, 0/1',
  mem_avail_mb: 'MemAvailable, MiB',
  mem_total_mb: 'MemTotal, MiB',
  psi_mem_some_avg10: 'memory PSI "some" avg10, %',
  psi_mem_full_avg10: 'memory PSI "full" avg10, %',
  tok_s: 'decode speed observed by the engine, tok/s',
};

/** A value of `kind`: a bare number in the default unit, or a string with a unit. */
export function quantity(kind: UnitKind, description: string) {
  return z
    .union([z.number(), z.string().meta({ pattern: unitPattern(kind) })], {
      error: `expected a number or a string with a unit, such as ${EXAMPLE[kind]}`,
    })
    .meta({ description: `${description} (bare number = ${DEFAULT_UNIT[kind]}; e.g. ${EXAMPLE[kind]})` });
}

/** A value whose kind depends on the signal it belongs to (limits). */
function signalQuantity(description: string) {
  return z
    .union([z.number(), z.string().meta({ pattern: anyUnitPattern() })], {
      error: 'expected a number or a string with the signal\'s unit, such as 45C, 4.5W, 20% or 800MiB',
    })
    .meta({ description });
}

const patternList = z
  .array(z.string().min(1))
  .min(1)
  .meta({ description: 'thermal-zone types or glob patterns (`*`, `?`), e.g. ["cpu-*", "gpu*"]' });

export const fromSchema = z
  .strictObject({
    max: patternList.optional().meta({ description: 'hottest of the matched zones' }),
    min: patternList.optional().meta({ description: 'coolest of the matched zones' }),
    avg: patternList.optional().meta({ description: 'mean of the matched zones' }),
    weighted: z
      .record(z.string().min(1), z.number())
      .optional()
      .meta({ description: 'Σ weight·zone + offset (Pixel "linear" virtual skin); keys are zone types or patterns matching one zone each' }),
    offset: quantity('temperature', 'added to a weighted sum').optional(),
  })
  .meta({ id: 'policyFrom', description: 'build the sensor from raw thermal zones (`zone.<type>`): exactly one of max, min, avg, weighted' });

const rangeSchema = z
  .tuple([signalQuantity('lowest plausible reading'), signalQuantity('highest plausible reading')])
  .meta({ description: 'plausible range [low, high] in the signal\'s unit; readings outside are sensor faults' });

const sensorFields = {
  range: rangeSchema.optional(),
  critical: z.boolean().optional().meta({ description: 'when this sensor fails, go to the safe tier (default false)' }),
  maxSlew: z
    .union([z.number(), z.string()], { error: 'expected a rate such as 20C/s, or "off"' })
    .optional()
    .meta({ description: 'largest believable change per second, e.g. 20C/s or 1C/min; faster = a spike (default "off")' }),
  hold: quantity('duration', 'how long this sensor\'s last good value is held before it is declared failed (default control.hold)').optional(),
  onFault: z
    .string()
    .optional()
    .meta({
      pattern: '^\\s*(ignore|hold|safe|cap\\s+\\S+)\\s*$',
      description: 'what a fault of this sensor does: ignore (its limits are not applied), hold (keep the latched severity), "cap <tier>" (hold, and at most that tier), safe (the safe tier). Default: safe when critical, else ignore',
    }),
  fallback: z.string().min(1).optional().meta({ description: 'another declared sensor (same unit) that stands in while this one has no value' }),
};

const sensorSchema = z
  .strictObject({ ...sensorFields, from: fromSchema.optional() })
  .meta({ id: 'policySensor', description: 'a canonical sensor: plausible range, spike limit, criticality, optional zone source' });
const virtualSensorSchema = z
  .strictObject({ ...sensorFields, from: fromSchema })
  .meta({ id: 'policyVirtualSensor', description: 'a custom °C sensor built from raw zones' });

const sensorsSchema = z
  .strictObject(
    Object.fromEntries(
      SENSOR_SIGNALS.map((s) => [s, sensorSchema.optional().meta({ description: SIGNAL_HELP[s] })]),
    ) as Record<SensorSignal, z.ZodOptional<typeof sensorSchema>>,
  )
  .meta({ description: 'canonical signals (SPEC §3) the governor reads, keyed by name' });

const levelSchema = z
  .union(
    [
      z.number(),
      z.string().meta({ pattern: anyUnitPattern() }),
      z.strictObject({
        set: signalQuantity('value at which this severity is entered'),
        clear: signalQuantity('value the signal must get back past to leave this severity').optional(),
      }),
    ],
    { error: 'expected a threshold such as 65C, or { set: 75C, clear: 71C }' },
  )
  .meta({ id: 'policyLevel', description: 'threshold for this severity: a value (cleared by `hysteresis`) or { set, clear }' });

const limitSchema = z.object({
  direction: z
    .enum(['rising', 'falling'])
    .optional()
    .meta({ description: 'rising: danger grows with the value; falling: charge, free memory. Inferred for canonical signals; required for virtual sensors' }),
  hysteresis: signalQuantity('default distance between set and clear for levels given as a bare value').optional(),
  forecast: z
    .boolean()
    .optional()
    .meta({ description: 'whether the forecast may escalate this limit before the value gets there (default: the core decides by signal; power is judged on its value)' }),
  ...(Object.fromEntries(THRESHOLD_SEVERITIES.map((s) => [s, levelSchema.optional()])) as Record<
    (typeof THRESHOLD_SEVERITIES)[number],
    z.ZodOptional<typeof levelSchema>
  >),
}).strict().meta({ id: 'policyLimit', description: 'thresholds of one signal, one per severity of Android\'s ladder, with hysteresis' });

const quantSchema = z.strictObject({
  weights: quantity('bytes', 'bytes of weights in memory for this quant (the GGUF file size)'),
  qualityCost: z.number().min(0).max(1).meta({ description: 'fraction of answer quality lost vs the unquantized model, 0..1' }),
});

const geometrySchema = z
  .strictObject({
    layers: z.number().int().positive().meta({ description: 'n_layer' }),
    kvHeads: z.number().int().positive().meta({ description: 'n_head_kv' }),
    headDim: z.number().int().positive().meta({ description: 'head dimension' }),
    kvCacheType: z.enum(['f16', 'q8_0', 'q4_0']).optional().meta({ description: 'KV cache element type (default f16)' }),
  })
  .meta({ description: 'model geometry; KV bytes/token = 2 · layers · kvHeads · headDim · bytes(kvCacheType)' });

const modelSchema = z.strictObject({
  name: z.string().min(1).meta({ description: 'model name, for messages and reports' }),
  kvBytesPerToken: quantity('bytes', 'KV cache bytes per token of context (K and V, all layers); or give `geometry`').optional(),
  geometry: geometrySchema.optional(),
  overhead: quantity('bytes', 'compute buffers + runtime, independent of context'),
  batchBytesPerToken: quantity('bytes', 'extra compute-buffer bytes per token of batch (default 0)').optional(),
  quants: z
    .record(z.string().min(1), quantSchema)
    .meta({ description: 'quantizations available, keyed by name (q8_0, q4_k_m, …)' }),
  switchCost: z
    .strictObject({
      quant: quantity('duration', 'a new quant: weights reload from storage + re-prefill of the kept conversation (default 0s)').optional(),
      context: quantity('duration', 'a new context length: context re-created (default 0s)').optional(),
      batch: quantity('duration', 'a new batch size: context re-created, shared with a context change (default 0s)').optional(),
      threads: quantity('duration', 'a new thread count (default 0s: llama_set_n_threads is free)').optional(),
      pacing: quantity('duration', 'new pacing (default 0s)').optional(),
    })
    .optional()
    .meta({ description: 'engine busy time per knob change (research/03 §7); a relax waits ≥ 20 × its switch cost. Unnamed knobs are free' }),
  performance: z
    .strictObject({
      memoryBandwidth: quantity('byteRate', 'DRAM bandwidth decode achieves (η·peak): decode reads the weights once per token').optional(),
      prefillOps: quantity('opsRate', 'effective compute for prompt processing at the richest tier\'s threads and batch 512').optional(),
      fixedPerToken: quantity('duration', 'fixed time per decoded token (sampling, kernel launch; default 2ms)').optional(),
    })
    .optional()
    .meta({ description: 'how fast this device runs the model, for the value model and routing (docs/policy.md "Speed"); a tier\'s measured `decode`/`prefill` take precedence, and observed speeds calibrate both online' }),
});

const tierSchema = z.strictObject({
  name: z.string().min(1).meta({ description: 'tier name, referenced by rules and control' }),
  quant: z.string().min(1).meta({ description: 'a key of model.quants' }),
  contextLength: z.number().int().positive().meta({ description: 'context length, tokens' }),
  batchSize: z.number().int().positive().meta({ description: 'batch size, tokens' }),
  threads: z.number().int().positive().optional().meta({ description: 'CPU threads (default: the engine\'s)' }),
  pacing: quantity('duration', 'pause between decoded tokens to cut power (default 0ms)').optional(),
  decode: quantity('tokRate', 'measured decode speed at this tier without pacing (edgegov calibrate `decodeTokS`); default: from model.performance').optional(),
  prefill: quantity('tokRate', 'measured prompt-processing speed at this tier (edgegov calibrate `prefillTokS`); default: from model.performance').optional(),
});

const severityEnum = z.enum(THRESHOLD_SEVERITIES as unknown as [string, ...string[]]);

const rulesSchema = z.strictObject({
  severityCaps: z
    .strictObject(Object.fromEntries(SEVERITIES.map((s) => [s, z.string().min(1).optional()])) as Record<string, z.ZodOptional<z.ZodString>>)
    .meta({ description: 'for each severity, the richest tier still allowed; unnamed severities inherit the milder one\'s cap' }),
  offload: z
    .strictObject({
      cloud: z.enum(['allowed', 'never']).optional().meta({ description: 'whether a cloud exists for this deployment (default never)' }),
      cloudAt: severityEnum.optional().meta({ description: 'at or above this severity, non-private requests go to the cloud' }),
      pauseAt: severityEnum.optional().meta({ description: 'at or above this severity, local generation pauses' }),
      minLocalTokS: quantity('tokRate', 'below this local decode speed, offload when allowed').optional(),
      cloudFirstToken: quantity('duration', 'expected time to the cloud\'s first token, network included (default 1s)').optional(),
      cloudTokS: quantity('tokRate', 'expected cloud streaming speed (default 50tok/s)').optional(),
    })
    .optional()
    .meta({ description: 'offload to the cloud or pause. Requests marked private never go to the cloud (enforced by the daemon)' }),
  qoe: z
    .strictObject({
      firstToken: quantity('duration', 'first-token target of a chat request (default 1s)').optional(),
      documentFirstToken: quantity('duration', 'first-token target of a document request (default 5s)').optional(),
      readingPace: quantity('tokRate', 'the reader\'s pace; speed above it goes unnoticed (default 5.3tok/s)').optional(),
    })
    .optional()
    .meta({ description: 'what the user expects of an answer (docs/policy.md "Quality of experience"): the governor routes and chooses tiers against it' }),
  memory: z
    .strictObject({
      reserve: quantity('memMiB', 'memory kept free for the rest of the system (default 300MiB)').optional(),
      onShortage: z.enum(['clamp-context', 'step-quant']).optional().meta({ description: 'when a tier does not fit: shrink the context first, or step the quant down first (default clamp-context)' }),
      minContextLength: z.number().int().positive().optional().meta({ description: 'the context is never clamped below this (default 512)' }),
    })
    .optional(),
  battery: z
    .strictObject({
      lowCharge: z
        .array(
          z.strictObject({
            below: quantity('percent', 'at or below this charge, while discharging'),
            tier: z.string().min(1).meta({ description: 'richest tier allowed' }),
          }),
        )
        .optional(),
      onBattery: z.string().min(1).optional().meta({ description: 'richest tier while not charging' }),
    })
    .optional(),
});

const controlSchema = z.strictObject({
  samplePeriod: quantity('duration', 'time between samples (default 500ms)').optional(),
  dwell: quantity('duration', 'minimum time at a tier before relaxing to a richer one; escalation never waits (default 10s)').optional(),
  relaxStep: z.number().int().positive().optional().meta({ description: 'tiers relaxed per step (default 1)' }),
  maxEscalateStep: z
    .union([z.number().int().positive(), z.literal('unlimited')], { error: 'expected a positive integer or "unlimited"' })
    .optional()
    .meta({ description: 'most tiers dropped in one decision (default "unlimited": straight to what safety needs)' }),
  forecastHorizon: quantity('duration', 'how far ahead the forecast looks (default 20s)').optional(),
  slopeWindow: quantity('duration', 'window of the slope estimate (default 10s)').optional(),
  smoothing: quantity('duration', 'EMA time constant; 0 = raw values (default 1s)').optional(),
  safeTier: z.string().min(1).meta({ description: 'tier used when a critical sensor fails or a lease runs out' }),
  leaseTtl: quantity('duration', 'lease on each published decision (default 3s)').optional(),
  hold: quantity('duration', 'how long a faulty sensor\'s last good value is held before it is declared failed (default 5s)').optional(),
  stuckAfter: quantity('duration', 'how long a sensor must stay flat (within its own quantum) while a physically coupled signal moves materially before it is declared stuck (default 120s, Pixel MinStuckDuration)').optional(),
});

export const policySchema = z
  .strictObject({
    version: z.literal(1).meta({ description: 'policy language version; must be 1' }),
    name: z.string().min(1).meta({ description: 'policy name' }),
    description: z.string().optional(),
    sensors: sensorsSchema,
    virtualSensors: z
      .record(z.string(), virtualSensorSchema)
      .optional()
      .meta({ description: 'custom sensors (°C) built from raw zones, keyed by a name like vskin_c' }),
    limits: z
      .record(z.string(), limitSchema)
      .meta({ description: 'thresholds per severity, keyed by a sensor or virtual sensor name' }),
    model: modelSchema,
    tiers: z.array(tierSchema).min(1).meta({ description: 'knob sets ordered richest → leanest' }),
    rules: rulesSchema,
    control: controlSchema,
  })
  .meta({
    title: 'edgegov policy',
    description: 'edgegov policy language v1 — see docs/policy.md',
  });

export type RawPolicy = z.infer<typeof policySchema>;

/** The draft-07 JSON Schema editors use. */
export function policyJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(policySchema, { target: 'draft-7' }) as Record<string, unknown>;
}
