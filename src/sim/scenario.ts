/**
 * Scenarios are DATA (sim/scenarios/*.yaml): ambient, workload mix, events, duration.
 * A scenario plus a seed fixes everything that is not the controller's choice.
 */
import { z } from 'zod';
import { existsSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { loadYamlFile } from './yaml-file.js';
import { repoRoot, SIMULATED_SIGNALS } from './device.js';
import { UserError } from '../util/errors.js';

const pos = z.number().positive();
const nonneg = z.number().nonnegative();

const LengthSchema = z.union([
  z.strictObject({ median: pos, p90: pos }),
  z.strictObject({ min: nonneg, max: pos }),
]);

const RequestKindSchema = z.strictObject({
  kind: z.enum(['chat', 'document']),
  weight: pos.default(1),
  promptTokens: LengthSchema,
  outputTokens: LengthSchema,
  /** Whether the request starts a fresh conversation (documents usually do). */
  newSession: z.boolean().optional(),
  /** Privacy-flagged requests never go to the cloud. */
  private: z.boolean().default(false),
  /**
   * The user's first-token expectation, s: where their expected timeline starts (docs/simulator.md
   * "Score"). Default: chat 1 s (Nielsen's 1 s flow-of-thought limit; streaming chat targets
   * <0.5 s ideal, 1–2 s acceptable, research/03 §5), document 5 s ([assumption]: a pasted document
   * is expected to take a moment, well inside the 10 s that keeps attention).
   */
  firstTokenS: pos.optional(),
});

const EventSchema = z.strictObject({
  atS: nonneg,
  ambientC: z.number().optional(),
  /** Another app takes (or, negative, frees) this much memory. */
  addBackgroundMb: z.number().optional(),
  /** …over this many seconds (an app allocates as it starts; the camera takes a few seconds). */
  rampS: nonneg.default(5),
  charging: z.boolean().optional(),
  cloudReachable: z.boolean().optional(),
}).refine((e) => e.ambientC !== undefined || e.addBackgroundMb !== undefined || e.charging !== undefined || e.cloudReachable !== undefined,
  { message: 'an event must change something: ambientC, addBackgroundMb, charging or cloudReachable' });

export const ScenarioSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  durationS: pos.max(24 * 3600),
  seed: z.number().int().default(1),
  /** Overrides the device's ambient temperature. */
  ambientC: z.number().optional(),
  battery: z.strictObject({ initialPct: z.number().min(0).max(100).optional(), charging: z.boolean().default(false) }).default({ charging: false }),
  memory: z.strictObject({ backgroundMb: nonneg.optional() }).default({}),
  cloud: z.strictObject({
    reachable: z.boolean().default(true),
    tokS: pos.default(50),        // research/03 §4: cloud streaming 30–100 tok/s
    ttftS: nonneg.default(1.0),   // research/03 §4: frontier API TTFT p50 0.3–2 s
    /** Answer quality of the cloud's model, 0..1 (the same model unquantised = 1; [assumption]). */
    quality: z.number().min(0).max(1).default(1),
  }).default({ reachable: true, tokS: 50, ttftS: 1, quality: 1 }),
  workload: z.strictObject({
    systemPromptTokens: nonneg.default(300),
    /** Mean turns per conversation (geometric), research/03 §6.6. */
    turnsPerSession: z.number().min(1).default(3),
    /** Mean think time after an answer (exponential), research/03 §6.6: 20–60 s. */
    thinkS: nonneg.default(30),
    startDelayS: nonneg.default(1),
    /**
     * Share of conversations that are private (every turn of one: never sent to the cloud). The
     * demo's users mark about a quarter of their requests private [assumption: personal messages,
     * health and work documents a user would keep on the device].
     */
    privateShare: z.number().min(0).max(1).default(0),
    /** The reader's pace, tok/s: 238 wpm silent reading ≈ 5.3 tok/s (research/03 §5). */
    readTokS: pos.default(5.3),
    requests: z.array(RequestKindSchema).min(1),
    bursts: z.strictObject({
      /** Chance that a request opens a burst. */
      probability: z.number().min(0).max(1),
      size: z.strictObject({ min: z.number().int().positive(), max: z.number().int().positive() }),
      gapS: nonneg,
    }).optional(),
  }),
  events: z.array(EventSchema).default([]),
  /**
   * Healthy sensors that read one constant value for the whole run (a full phone on its charger
   * at 100 %, a battery thermistor that does not leave its 0.1 °C step, an idle PSI of 0): the
   * reading replaces what the sensor would report, whenever it reports at all. A signal the device
   * does not have (battery on a board, a zone type it lacks) stays absent, as `battery:` does.
   */
  holdFlat: z.record(z.string(), z.number()).superRefine((held, ctx) => {
    for (const k of Object.keys(held)) {
      if ((SIMULATED_SIGNALS as readonly string[]).includes(k) || /^zone\.[^\s]+$/.test(k)) continue;
      ctx.addIssue({ code: 'custom', path: [k], message: `'${k}' is not a simulated signal (${SIMULATED_SIGNALS.join(', ')} or zone.<type>)` });
    }
  }).default({}),
});

export type Scenario = z.output<typeof ScenarioSchema>;
export type ScenarioEvent = Scenario['events'][number];

export const scenariosDir = join(repoRoot, 'sim', 'scenarios');

export function listScenarios(): string[] {
  return readdirSync(scenariosDir).filter((f) => f.endsWith('.yaml')).map((f) => basename(f, '.yaml')).sort();
}

export function resolveScenarioPath(nameOrPath: string): string {
  if (nameOrPath.endsWith('.yaml') || nameOrPath.endsWith('.yml') || nameOrPath.includes('/')) return resolve(nameOrPath);
  const p = join(scenariosDir, `${nameOrPath}.yaml`);
  if (!existsSync(p)) throw new UserError(`unknown scenario '${nameOrPath}' (shipped: ${listScenarios().join(', ')})`);
  return p;
}

export function loadScenario(nameOrPath: string): Scenario {
  const path = resolveScenarioPath(nameOrPath);
  const s = loadYamlFile(path, ScenarioSchema, 'scenario');
  return { ...s, events: [...s.events].sort((a, b) => a.atS - b.atS) };
}
