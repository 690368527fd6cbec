/**
 * `edgegov policy import-pixel`: a policy skeleton from a Pixel Thermal HAL
 * `thermal_info_config.json` (research/01 §2.3), so an OEM starts from the thermal
 * limits its device already ships with.
 *
 * What carries over:
 * - raw sensors (thermal zones, `Multiplier` 0.001 = m°C) as zones in `from:`;
 * - virtual sensors with `Formula` MAXIMUM / MINIMUM / WEIGHTED_AVG over temperature
 *   sensors, as edgegov sensors built `from:` zones (`weighted` keeps `Coefficient` and
 *   `Offset`; zero weights are dropped, which changes nothing);
 * - `HotThreshold[7]` / `HotHysteresis[7]` as limits: the seven slots are Android's ladder
 *   NONE…SHUTDOWN, NaN slots are skipped, `clear = set − hysteresis`.
 *
 * Which thresholds become limits: those Android's thermal status would see — sensors that
 * send callbacks to the framework (`SendCallback`), or, in configs that predate that key,
 * every non-hidden sensor — and typed sensors (SKIN, CPU, BATTERY, …) that are not hidden.
 * Hidden sensors and untyped thermistor triggers hold PID targets, power hints and polling
 * triggers: internal to the HAL's own throttling, so they become comments, not severities
 * (a camera thermistor's 31 °C polling trigger must not make the LLM "light"-throttled).
 *
 * edgegov's `from:` reads raw zones and does not nest, so a MAXIMUM over virtual sensors
 * (Pixel 8's VIRTUAL-SKIN = max of 9 weighted sums) becomes one virtual sensor per leaf,
 * each with the parent's thresholds: max(leaves) ≥ T exactly when some leaf ≥ T.
 *
 * Everything else is named in comments: PID gains, cooling devices, power rails, TFLite and
 * linear predictors, COUNT_THRESHOLD and battery-current-limit sensors, polling delays, stats.
 * The model, tiers, rules and control sections come from a template policy
 * (policies/default.yaml): a Pixel config knows nothing of the LLM's knobs.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import YAML, { isMap, isPair, isScalar, type Document, type YAMLMap, type Pair, type Scalar } from 'yaml';
import { SEVERITIES, THRESHOLD_SEVERITIES, type Severity } from '../core/severity.js';
import { UserError, envErrorFrom } from '../util/errors.js';

// ───────────────────────────── the Pixel config ─────────────────────────────

export interface PixelSensor {
  name: string;
  type: string;
  /** HotThreshold in its own unit (after Multiplier for °C sensors), per Android severity; undefined = NaN. */
  hot: (number | undefined)[];
  hysteresis: number[];
  multiplier: number;
  virtual: boolean;
  formula?: string;
  combination: string[];
  combinationType: string[];
  coefficient: number[];
  /** Raw (pre-Multiplier) offset of a virtual sensor. */
  offset: number;
  hidden: boolean;
  sendCallback?: boolean;
  /** Keys present on the sensor that edgegov does not carry (PIDInfo, BindedCdevInfo, …). */
  keys: string[];
  /** 1-based line of the sensor's Name in the file, for messages. */
  line: number;
}

export interface PixelConfig {
  file: string;
  sensors: PixelSensor[];
  coolingDevices: string[];
  powerRails: string[];
  otherSections: string[];
}

const SLOTS = SEVERITIES.length; // 7: NONE … SHUTDOWN

/** Pixel writes NaN as the strings "NAN"/"NaN" and sometimes numbers as strings ("70.0"). */
function pixelNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string') {
    if (/^nan$/i.test(v.trim())) return undefined;
    const n = Number(v);
    return v.trim() !== '' && Number.isFinite(n) ? n : Number.NaN;
  }
  return Number.NaN;
}

/** Line:col of a character offset. */
function lineColAt(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lastNl = -1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) { line++; lastNl = i; }
  return { line, col: offset - lastNl };
}

export function parsePixelConfig(text: string, file: string): PixelConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const pos = /position (\d+)/.exec(msg);
    const lc = /line (\d+) column (\d+)/.exec(msg);
    const where = lc ? `${lc[1]}:${lc[2]}` : pos ? (({ line, col }) => `${line}:${col}`)(lineColAt(text, Number(pos[1]))) : '1:1';
    throw new UserError(`${file} is not valid JSON`, [`${file}:${where}: ${msg.replace(/^JSON\.parse: /, '')}`]);
  }
  const top = doc as Record<string, unknown>;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || !Array.isArray(top.Sensors)) {
    throw new UserError(`${file} is not a Pixel thermal HAL config`, [`${file}:1:1: expected an object with a "Sensors" array (thermal_info_config.json)`]);
  }
  const problems: string[] = [];
  const sensors: PixelSensor[] = [];
  let searchFrom = 0;
  (top.Sensors as unknown[]).forEach((raw, i) => {
    const at = `Sensors[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      problems.push(`${file}:1:1: ${at}: expected an object`);
      return;
    }
    const s = raw as Record<string, unknown>;
    const name = typeof s.Name === 'string' ? s.Name : '';
    // Locate the sensor in the text so messages can name a line (JSON.parse keeps no positions).
    const idx = name ? text.indexOf(JSON.stringify(name), searchFrom) : -1;
    if (idx >= 0) searchFrom = idx + 1;
    const { line, col } = lineColAt(text, idx >= 0 ? idx : 0);
    const here = `${file}:${line}:${col}: ${at}${name ? ` (${name})` : ''}`;
    if (!name) problems.push(`${here}: "Name" must be a non-empty string`);
    const multiplier = s.Multiplier === undefined ? 1 : pixelNumber(s.Multiplier);
    if (multiplier === undefined || Number.isNaN(multiplier)) problems.push(`${here}: "Multiplier" must be a number`);
    const slots = (key: string, fill: number | undefined): (number | undefined)[] => {
      const v = s[key];
      if (v === undefined) return new Array(SLOTS).fill(fill);
      if (!Array.isArray(v) || v.length !== SLOTS) {
        problems.push(`${here}: "${key}" must be an array of ${SLOTS} entries (NONE…SHUTDOWN)`);
        return new Array(SLOTS).fill(fill);
      }
      return v.map((x, k) => {
        const n = pixelNumber(x);
        if (n !== undefined && Number.isNaN(n)) problems.push(`${here}: "${key}"[${k}] is ${JSON.stringify(x)}, not a number or "NAN"`);
        // Far beyond any sensor's unit (found by fuzzing: at 1e20 a clear point 0.1 below set is
        // the same double, so the imported policy could never clear).
        else if (n !== undefined && !(Math.abs(n) <= MAX_PIXEL_VALUE)) {
          problems.push(`${here}: "${key}"[${k}] is ${JSON.stringify(x)}, out of range (at most ${MAX_PIXEL_VALUE} in magnitude)`);
          return undefined;
        }
        return n !== undefined && Number.isNaN(n) ? undefined : n;
      });
    };
    const list = (key: string): string[] => {
      const v = s[key];
      if (v === undefined) return [];
      if (typeof v === 'string') return [v];
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
        problems.push(`${here}: "${key}" must be a list of names`);
        return [];
      }
      return v as string[];
    };
    const numbers = (key: string): number[] => {
      const v = s[key];
      if (v === undefined) return [];
      if (!Array.isArray(v)) {
        problems.push(`${here}: "${key}" must be a list of numbers`);
        return [];
      }
      return v.map((x, k) => {
        const n = pixelNumber(x);
        if (n === undefined || Number.isNaN(n)) problems.push(`${here}: "${key}"[${k}] is ${JSON.stringify(x)}, not a number`);
        return n ?? Number.NaN;
      });
    };
    // Thresholds are given in the sensor's reported unit (°C for m°C zones); no Multiplier on them.
    const hot = slots('HotThreshold', undefined);
    const hysteresis = slots('HotHysteresis', 0).map((h) => h ?? 0);
    const combination = list('Combination');
    const coefficient = numbers('Coefficient');
    if (combination.length > 0 && coefficient.length > 0 && coefficient.length !== combination.length) {
      problems.push(`${here}: "Coefficient" has ${coefficient.length} entries for ${combination.length} in "Combination"`);
    }
    const offset = s.Offset === undefined ? 0 : pixelNumber(s.Offset);
    if (offset === undefined || Number.isNaN(offset)) problems.push(`${here}: "Offset" must be a number`);
    sensors.push({
      name,
      type: typeof s.Type === 'string' ? s.Type : 'UNKNOWN',
      hot,
      hysteresis,
      multiplier: multiplier ?? 1,
      virtual: s.VirtualSensor === true,
      formula: typeof s.Formula === 'string' ? s.Formula : undefined,
      combination,
      combinationType: list('CombinationType'),
      coefficient,
      offset: offset ?? 0,
      hidden: s.Hidden === true,
      sendCallback: typeof s.SendCallback === 'boolean' ? s.SendCallback : undefined,
      keys: Object.keys(s),
      line,
    });
  });
  const seen = new Set<string>();
  for (const s of sensors) {
    if (s.name && seen.has(s.name)) problems.push(`${file}:${s.line}:1: sensor "${s.name}" is defined twice`);
    seen.add(s.name);
  }
  if (problems.length > 0) throw new UserError(`${file}: ${problems.length} problem(s) in the Pixel thermal config`, problems);
  const names = (v: unknown): string[] =>
    Array.isArray(v) ? v.map((c) => (c && typeof c === 'object' && typeof (c as { Name?: unknown }).Name === 'string' ? (c as { Name: string }).Name : '?')) : [];
  return {
    file,
    sensors,
    coolingDevices: names(top.CoolingDevices),
    powerRails: names(top.PowerRails),
    otherSections: Object.keys(top).filter((k) => !['Sensors', 'CoolingDevices', 'PowerRails'].includes(k)),
  };
}

// ───────────────────────────── the mapping ─────────────────────────────

/** How an edgegov sensor is built from zones (the YAML `from:` form). */
export type FromSpec =
  | { max: string[] }
  | { min: string[] }
  | { weighted: Record<string, number>; offsetC: number };

/** One Pixel sensor reduced to zone combinations; several leaves for a MAXIMUM over virtual sensors. */
interface Leaf {
  /** The Pixel sensor this leaf is (for naming): the sensor itself or a nested sub-sensor. */
  pixelName: string;
  from: FromSpec;
}

type Expansion = { ok: true; leaves: Leaf[] } | { ok: false; why: string };

const TEMPERATURE_MULTIPLIER = 0.001; // m°C → °C
const TEMPERATURE_TYPES = new Set(['CPU', 'GPU', 'BATTERY', 'SKIN', 'USB_PORT', 'POWER_AMPLIFIER', 'NPU', 'TPU', 'DISPLAY', 'MODEM', 'SOC', 'WIFI', 'CAMERA', 'FLASHLIGHT', 'SPEAKER', 'AMBIENT', 'POGO', 'UNKNOWN']);
const SOC_TYPES = new Set(['CPU', 'GPU', 'NPU', 'TPU', 'SOC']);

function isTemperature(s: PixelSensor): boolean {
  return TEMPERATURE_TYPES.has(s.type) && Math.abs(s.multiplier - TEMPERATURE_MULTIPLIER) < 1e-12;
}

/** Rounds away binary noise (43 − 1.9 = 41.1, not 41.099999…) without losing real digits. */
function tidy(x: number): number {
  return Number(x.toPrecision(12));
}

export class PixelMapper {
  private readonly byName = new Map<string, PixelSensor>();
  constructor(readonly config: PixelConfig) {
    for (const s of config.sensors) this.byName.set(s.name, s);
  }

  sensor(name: string): PixelSensor | undefined {
    return this.byName.get(name);
  }

  /** Reduces a sensor to zone combinations edgegov can build, or says why it cannot. */
  expand(s: PixelSensor, depth = 0): Expansion {
    if (depth > 16) return { ok: false, why: 'virtual sensors nest more than 16 deep (a cycle?)' };
    if (!isTemperature(s)) {
      return { ok: false, why: s.type.startsWith('BCL') ? `battery-current-limit sensor (${s.type}), not a temperature` : `not a temperature (Multiplier ${s.multiplier})` };
    }
    if (!s.virtual) return { ok: true, leaves: [{ pixelName: s.name, from: { max: [s.name] } }] };
    const formula = s.formula ?? 'WEIGHTED_AVG';
    if (s.combination.length === 0) return { ok: false, why: 'a virtual sensor without a Combination' };
    const nonSensor = s.combinationType.filter((t) => t !== 'SENSOR');
    if (nonSensor.length > 0) {
      const rails = s.combination.filter((_, i) => s.combinationType[i] !== undefined && s.combinationType[i] !== 'SENSOR');
      return { ok: false, why: `mixes in ${nonSensor.join('/')} inputs (${rails.join(', ')}): edgegov sensors combine temperatures only` };
    }
    const parts = s.combination.map((n) => this.byName.get(n));
    const missing = s.combination.filter((_, i) => parts[i] === undefined);
    if (missing.length > 0) return { ok: false, why: `combines sensors not defined in the config: ${missing.join(', ')}` };
    const coef = (i: number) => s.coefficient[i] ?? 1;
    switch (formula) {
      case 'WEIGHTED_AVG': {
        const weighted: Record<string, number> = {};
        for (let i = 0; i < parts.length; i++) {
          const p = parts[i]!;
          if (p.virtual) return { ok: false, why: `a weighted sum over the virtual sensor ${p.name}: edgegov's weighted sums read raw zones only` };
          if (!isTemperature(p)) return { ok: false, why: `weights ${p.name}, which is not a temperature` };
          // Zero weights contribute nothing; dropping them keeps the YAML readable.
          if (coef(i) !== 0) weighted[p.name] = (weighted[p.name] ?? 0) + coef(i);
        }
        if (Object.keys(weighted).length === 0) return { ok: false, why: 'every Coefficient is 0' };
        const offsetC = tidy(s.offset * s.multiplier);
        const only = Object.entries(weighted);
        if (only.length === 1 && only[0][1] === 1 && offsetC === 0) return { ok: true, leaves: [{ pixelName: s.name, from: { max: [only[0][0]] } }] };
        return { ok: true, leaves: [{ pixelName: s.name, from: { weighted, offsetC } }] };
      }
      case 'MAXIMUM':
      case 'MINIMUM': {
        if (s.offset !== 0) return { ok: false, why: `${formula} with an Offset (${s.offset})` };
        if (s.coefficient.some((c) => c !== 1)) return { ok: false, why: `${formula} with Coefficients other than 1 (${s.coefficient.join(', ')})` };
        const zones: string[] = [];
        const nested: Leaf[] = [];
        for (const p of parts as PixelSensor[]) {
          const e = this.expand(p, depth + 1);
          if (!e.ok) return { ok: false, why: `${p.name}: ${e.why}` };
          for (const leaf of e.leaves) {
            if (formula === 'MAXIMUM' && 'max' in leaf.from) zones.push(...leaf.from.max);
            else if (formula === 'MINIMUM' && !p.virtual) zones.push(...(leaf.from as { max: string[] }).max);
            else nested.push(leaf);
          }
        }
        if (formula === 'MINIMUM') {
          // min(a, b) ≥ T needs every input ≥ T: not expressible as one limit per leaf.
          if (nested.length > 0) return { ok: false, why: 'MINIMUM over virtual sensors: edgegov sensors cannot nest' };
          return { ok: true, leaves: [{ pixelName: s.name, from: { min: [...new Set(zones)] } }] };
        }
        const leaves = [...nested];
        if (zones.length > 0) leaves.unshift({ pixelName: nested.length > 0 ? `${s.name}-zones` : s.name, from: { max: [...new Set(zones)] } });
        return { ok: true, leaves };
      }
      case 'COUNT_THRESHOLD':
        return { ok: false, why: 'COUNT_THRESHOLD counts how many inputs pass their thresholds; edgegov has no counting sensor' };
      case 'USE_ML_MODEL':
        return { ok: false, why: 'USE_ML_MODEL runs a TFLite estimator; edgegov has no predictor models' };
      case 'USE_LINEAR_MODEL':
        return { ok: false, why: 'USE_LINEAR_MODEL uses previous samples; edgegov sensors combine current readings only' };
      default:
        return { ok: false, why: `unknown Formula ${formula}` };
    }
  }
}

/** The thresholds of one Pixel sensor as edgegov levels (NaN slots skipped). */
export interface ImportedLevel {
  severity: Exclude<Severity, 'none'>;
  setC: number;
  clearC: number;
  /** The Pixel hysteresis; 0 means edgegov's minimal band was used. */
  hysteresisC: number;
}

/** No threshold or hysteresis of any real sensor comes near this (°C, mA, mV or %). */
export const MAX_PIXEL_VALUE = 1e7;

/** Hysteresis 0 in Pixel clears as soon as the value drops below the threshold; edgegov needs clear < set. */
export const ZERO_HYSTERESIS_BAND_C = 0.1;

export function pixelLevels(s: PixelSensor): ImportedLevel[] {
  const out: ImportedLevel[] = [];
  for (let i = 1; i < SLOTS; i++) {
    const set = s.hot[i];
    if (set === undefined) continue;
    const h = s.hysteresis[i] ?? 0;
    let clearC = tidy(set - (h > 0 ? h : ZERO_HYSTERESIS_BAND_C));
    if (clearC >= set) clearC = set - ZERO_HYSTERESIS_BAND_C; // a hysteresis too small to write
    out.push({ severity: SEVERITIES[i] as Exclude<Severity, 'none'>, setC: set, clearC, hysteresisC: h });
  }
  return out;
}

export interface ImportedSensor {
  pixel: string;
  type: string;
  /** edgegov signals carrying this sensor's thresholds (empty when implied or skipped). */
  signals: string[];
  levels: ImportedLevel[];
  /** Why the thresholds were not carried, when they were not. */
  skipped?: string;
  /** Another imported sensor whose limits already imply these, when that is why. */
  impliedBy?: string;
}

export interface ImportResult {
  yaml: string;
  sensors: ImportedSensor[];
}

/** A lower-case edgegov name for a Pixel sensor: `VIRTUAL-SKIN-SUB-0` → `virtual_skin_sub_0_c`. */
export function edgegovName(pixelName: string): string {
  let n = pixelName.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  if (!/^[a-z]/.test(n)) n = `pixel_${n}`;
  return n.endsWith('_c') ? n : `${n}_c`;
}

function fromKey(f: FromSpec): string {
  return JSON.stringify(f);
}

/** Does `existing` already reach every severity of `added` at or below its thresholds? */
function implies(existing: ImportedLevel[], added: ImportedLevel[]): boolean {
  return added.every((a) => {
    const rank = SEVERITIES.indexOf(a.severity);
    const candidates = existing.filter((e) => SEVERITIES.indexOf(e.severity) >= rank).map((e) => e.setC);
    return candidates.length > 0 && Math.min(...candidates) <= a.setC;
  });
}

// ───────────────────────────── YAML output ─────────────────────────────

const TEMPLATE_SECTIONS = ['model', 'tiers', 'rules', 'control'] as const;
/** Canonical signals whose sensors come from the config; others (battery %, memory, PSI …) from the template. */
const THERMAL_CANONICAL = new Set(['soc_c', 'skin_c', 'battery_c']);
/** Names a virtual sensor may not take. */
const CANONICAL_NAMES = new Set(['soc_c', 'skin_c', 'battery_c', 'ambient_c', 't_ms']);

export const DEFAULT_TEMPLATE_URL = new URL('../../policies/default.yaml', import.meta.url);

/** A number as policy YAML reads it: plain decimal notation, never `1e-7`. */
function decimal(x: number): string {
  const t = String(x);
  return /e/i.test(t) ? x.toFixed(12).replace(/\.?0+$/, '') : t;
}
const degrees = (x: number) => `${decimal(tidy(x))}C`;

function fromYaml(f: FromSpec): Record<string, unknown> {
  if ('weighted' in f) return f.offsetC === 0 ? { weighted: f.weighted } : { weighted: f.weighted, offset: degrees(f.offsetC) };
  return 'max' in f ? { max: f.max } : { min: f.min };
}

function levelsYaml(levels: ImportedLevel[]): Record<string, unknown> {
  const out: Record<string, unknown> = { direction: 'rising' };
  const hs = new Set(levels.map((l) => l.hysteresisC));
  const uniform = hs.size === 1 && [...hs][0] > 0;
  if (uniform) out.hysteresis = degrees([...hs][0]);
  // Thresholds are written exactly as the source gave them (no rounding: the test compares them).
  for (const l of levels) out[l.severity] = uniform ? `${decimal(l.setC)}C` : { set: `${decimal(l.setC)}C`, clear: degrees(l.clearC) };
  return out;
}

/** Wraps long comment text into `# ` lines (yaml adds the `#`). */
function commentLines(lines: string[], width = 96): string {
  const out: string[] = [];
  for (const line of lines) {
    if (line === '') { out.push(''); continue; }
    const lead = /^\s*(- )?/.exec(line)![0];
    const indent = lead.replace('- ', '  ');
    let cur = lead;
    for (const word of line.slice(lead.length).split(' ')) {
      if (cur.trim() && (cur + ' ' + word).length > width) { out.push(' ' + cur); cur = indent + word; }
      else cur = cur.trim() ? `${cur} ${word}` : cur + word;
    }
    out.push(' ' + cur);
  }
  return out.join('\n');
}

function pairOf(map: YAMLMap, key: string): Pair<Scalar, unknown> | undefined {
  return map.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key) as Pair<Scalar, unknown> | undefined;
}

function commentKey(doc: Document, path: string[], text: string): void {
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  if (!isMap(parent)) return;
  const p = pairOf(parent, path[path.length - 1]);
  if (p && isScalar(p.key)) p.key.commentBefore = commentLines(text.split('\n'));
}

/** Lists of zones and small maps read best on one line. */
function flowSmallCollections(node: unknown, depth = 0): void {
  if (isMap(node)) {
    for (const p of node.items) {
      const v = p.value as { items?: unknown[]; flow?: boolean } | null;
      if (v && Array.isArray(v.items) && depth >= 1) {
        if (p.key && isScalar(p.key) && (p.key.value === 'max' || p.key.value === 'min' || p.key.value === 'weighted')) v.flow = true;
        if (p.key && isScalar(p.key) && p.key.value === 'from') v.flow = false;
        const isLevel = p.key && isScalar(p.key) && (THRESHOLD_SEVERITIES as readonly string[]).includes(String(p.key.value));
        if (isLevel) v.flow = true;
        if (p.key && isScalar(p.key) && p.key.value === 'range') v.flow = true;
      }
      flowSmallCollections(p.value, depth + 1);
    }
  }
}

export interface ImportOptions {
  /** Text of the template policy (model, tiers, rules, control and non-thermal sensors). */
  templateText: string;
  templateFile: string;
  /** Policy name; defaults from the file name. */
  name?: string;
}

export function importPixelConfig(text: string, file: string, options: ImportOptions): ImportResult {
  const config = parsePixelConfig(text, file);
  const mapper = new PixelMapper(config);
  const template = YAML.parseDocument(options.templateText, { keepSourceTokens: false });
  // The template is the user's input (--template): its mistakes are exit 1, like a bad policy.
  if (template.errors.length > 0) {
    const e = template.errors[0];
    const at = e.linePos?.[0] ? `${e.linePos[0].line}:${e.linePos[0].col}` : '1:1';
    throw new UserError(`template ${options.templateFile} is not valid YAML`, [`${options.templateFile}:${at}: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`]);
  }
  const tpl = (template.toJS() ?? {}) as Record<string, unknown>;
  const missing = TEMPLATE_SECTIONS.filter((s) => tpl[s] === undefined);
  if (missing.length > 0) throw new UserError(`template ${options.templateFile} has no ${missing.map((m) => `"${m}"`).join(', ')} section; use a complete policy such as policies/default.yaml`);
  const tplSensors = (tpl.sensors ?? {}) as Record<string, Record<string, unknown>>;
  const tplLimits = (tpl.limits ?? {}) as Record<string, unknown>;

  // A config written before SendCallback existed (Pixel 4a) reports every non-hidden sensor.
  const usesSendCallback = config.sensors.some((s) => s.sendCallback !== undefined);
  const reportsStatus = (s: PixelSensor) =>
    !s.hidden && (s.sendCallback === true || !usesSendCallback || (s.type !== 'UNKNOWN' && !s.type.startsWith('BCL')));

  const sensorsOut: Record<string, Record<string, unknown>> = {};
  const virtualOut: Record<string, Record<string, unknown>> = {};
  const limitsOut: Record<string, Record<string, unknown>> = {};
  const sensorNotes: Record<string, string[]> = {};
  const limitNotes: Record<string, string[]> = {};
  const imported: ImportedSensor[] = [];
  const notCarried: string[] = [];
  /** Signal → the levels already put on it, and by which Pixel sensor. */
  const limitOwner = new Map<string, { pixel: string; levels: ImportedLevel[] }>();
  /** Leaf combination → virtual sensor name, so leaves shared by two sensors are declared once. */
  const leafNames = new Map<string, string>();

  const note = (bag: Record<string, string[]>, key: string, line: string) => (bag[key] ??= []).push(line);

  // soc_c: the hottest CPU/GPU/NPU/TPU zone (SPEC §3), whatever carries thresholds.
  const socZones = config.sensors.filter((s) => SOC_TYPES.has(s.type) && !s.virtual && isTemperature(s)).map((s) => s.name);
  if (socZones.length > 0) {
    sensorsOut.soc_c = { ...pickSensorAttrs(tplSensors.soc_c), from: { max: socZones } };
    note(sensorNotes, 'soc_c', `soc_c: the hottest of the config's ${[...new Set(config.sensors.filter((s) => socZones.includes(s.name)).map((s) => s.type))].join('/')} zones`);
  }
  const withThresholds = config.sensors.filter((s) => pixelLevels(s).length > 0);
  const socWithThresholds = withThresholds.filter((s) => socZones.includes(s.name) && reportsStatus(s));
  const socUniform = socWithThresholds.length > 0 && new Set(socWithThresholds.map((s) => JSON.stringify(pixelLevels(s)))).size === 1;

  const declareLeaf = (leaf: Leaf, prefix?: string): string => {
    const key = fromKey(leaf.from);
    const existing = leafNames.get(key);
    if (existing && !prefix) return existing;
    let name = edgegovName(prefix ? `${prefix}-${leaf.pixelName}` : leaf.pixelName);
    while (virtualOut[name] || CANONICAL_NAMES.has(name)) name = name.replace(/_c$/, '_x_c');
    virtualOut[name] = { from: fromYaml(leaf.from) };
    if (!existing) leafNames.set(key, name);
    return name;
  };

  for (const s of withThresholds) {
    const levels = pixelLevels(s);
    const entry: ImportedSensor = { pixel: s.name, type: s.type, signals: [], levels };
    imported.push(entry);
    const ladder = levels.map((l) => `${l.severity} ${l.setC}`).join(', ');
    if (!isTemperature(s)) {
      const e = mapper.expand(s);
      entry.skipped = e.ok ? 'not a temperature' : e.why;
      notCarried.push(`${s.name} (${s.type}) thresholds ${ladder}: ${entry.skipped}`);
      continue;
    }
    if (!reportsStatus(s)) {
      const role = s.keys.includes('PIDInfo') ? 'PID target' : s.keys.includes('BindedCdevInfo') ? 'cooling-device trigger' : s.keys.includes('SendPowerHint') ? 'power-hint trigger' : 'polling trigger';
      entry.skipped = `${s.hidden ? 'hidden' : 'not reported to Android'} (${role})`;
      notCarried.push(`${s.name} (${s.type}, ${entry.skipped}): ${ladder} °C`);
      continue;
    }
    const inexact = levels.find((l) => Number(decimal(l.setC)) !== l.setC);
    if (inexact) {
      entry.skipped = `threshold ${inexact.setC} cannot be written exactly`;
      notCarried.push(`${s.name} (${s.type}) thresholds ${ladder}: ${entry.skipped}`);
      continue;
    }
    const rising = levels.every((l, i) => i === 0 || l.setC > levels[i - 1].setC);
    if (!rising) {
      // The HAL does not check this; a severity ladder that falls would never be consistent.
      entry.skipped = 'its thresholds do not rise with severity';
      notCarried.push(`${s.name} (${s.type}) thresholds ${ladder}: ${entry.skipped}`);
      continue;
    }
    const e = mapper.expand(s);
    if (!e.ok) {
      entry.skipped = e.why;
      notCarried.push(`${s.name} (${s.type}) thresholds ${ladder}: ${e.why}`);
      continue;
    }
    const levelNote = `${s.name} (${s.type}): HotThreshold ${ladder} °C, HotHysteresis ${levels.map((l) => l.hysteresisC).join('/')} °C${levels.some((l) => l.hysteresisC === 0) ? ` (hysteresis 0 → clear ${ZERO_HYSTERESIS_BAND_C} °C below set: edgegov needs a clear point below set)` : ''}`;

    // Where the thresholds go: a canonical signal when the sensor is exactly one.
    let targets: string[];
    if (socZones.includes(s.name) && socUniform) {
      targets = ['soc_c'];
    } else if (s.type === 'SKIN' && e.leaves.length === 1 && !sensorsOut.skin_c) {
      sensorsOut.skin_c = { ...pickSensorAttrs(tplSensors.skin_c), from: fromYaml(e.leaves[0].from) };
      note(sensorNotes, 'skin_c', `skin_c: Pixel ${s.name}`);
      targets = ['skin_c'];
    } else if (s.type === 'BATTERY' && e.leaves.length === 1 && !s.virtual && !sensorsOut.battery_c) {
      sensorsOut.battery_c = { ...pickSensorAttrs(tplSensors.battery_c), from: fromYaml(e.leaves[0].from) };
      note(sensorNotes, 'battery_c', `battery_c: Pixel ${s.name}`);
      targets = ['battery_c'];
    } else {
      targets = e.leaves.map((leaf) => declareLeaf(leaf));
    }

    if (targets.length === 0) {
      entry.skipped = 'it combines nothing edgegov can read';
      notCarried.push(`${s.name} (${s.type}) thresholds ${ladder}: ${entry.skipped}`);
      continue;
    }
    if (targets.length === 1 && targets[0] === 'soc_c' && limitOwner.has('soc_c')) {
      entry.signals = ['soc_c']; // the shared SoC thresholds are written once
      continue;
    }
    // Same signals already limited by another sensor: skip if implied, else give these their own copies.
    const owners = targets.map((t) => limitOwner.get(t));
    if (owners.every((o) => o !== undefined)) {
      if (owners.every((o) => implies(o!.levels, levels))) {
        entry.impliedBy = owners[0]!.pixel;
        notCarried.push(`${s.name} (${s.type}) ${ladder} °C: implied by ${owners[0]!.pixel}'s limits on the same sensor(s), which reach each severity at or below these values`);
        continue;
      }
      if (targets.includes('soc_c') || targets.includes('skin_c') || targets.includes('battery_c')) {
        entry.skipped = `its sensor already carries ${owners[0]!.pixel}'s thresholds`;
        notCarried.push(`${s.name} (${s.type}) ${ladder} °C: ${entry.skipped}`);
        continue;
      }
      targets = e.leaves.map((leaf) => declareLeaf(leaf, s.name));
    } else if (owners.some((o) => o !== undefined)) {
      targets = e.leaves.map((leaf) => declareLeaf(leaf, s.name));
    }
    for (const t of targets) {
      widenRange(THERMAL_CANONICAL.has(t) ? sensorsOut[t] : virtualOut[t], levels);
      limitsOut[t] = levelsYaml(levels);
      if (THERMAL_CANONICAL.has(t)) delete limitsOut[t].direction; // inferred for canonical signals
      limitOwner.set(t, { pixel: s.name, levels });
    }
    entry.signals = targets;
    const first = targets[0];
    if (targets[0] === 'soc_c') {
      note(limitNotes, first, `soc_c: ${socWithThresholds.map((x) => x.name).join(', ')} (${s.type}) share HotThreshold ${ladder} °C; max(zones) ≥ T exactly when some zone ≥ T`);
    } else if (targets.length > 1) {
      note(limitNotes, first, `${levelNote}`);
      note(limitNotes, first, `${s.name} is the ${s.formula} of ${targets.length} combinations; edgegov sensors do not nest, so each carries these thresholds (max ≥ T exactly when some part ≥ T; each part keeps its own hysteresis state): ${targets.join(', ')}`);
    } else note(limitNotes, first, levelNote);
  }
  if (socWithThresholds.length > 0 && !socUniform) {
    note(sensorNotes, 'soc_c', 'the SoC zones have different thresholds, so each zone carries its own limit below');
  }

  // Non-thermal canonical sensors and their limits come from the template; so do soc_c
  // limits when the config has none (Pixel 8's CPU zones rely on kernel trip points).
  for (const [name, spec] of Object.entries(tplSensors)) {
    if (THERMAL_CANONICAL.has(name)) continue;
    sensorsOut[name] = spec;
    note(sensorNotes, name, `${name}: from the template (${options.templateFile})`);
    if (tplLimits[name] !== undefined) {
      limitsOut[name] = tplLimits[name] as Record<string, unknown>;
      note(limitNotes, name, `${name}: from the template (${options.templateFile})`);
    }
  }
  if (sensorsOut.soc_c && !limitsOut.soc_c && tplLimits.soc_c !== undefined) {
    limitsOut.soc_c = tplLimits.soc_c as Record<string, unknown>;
    note(limitNotes, 'soc_c', `soc_c: the config gives its SoC zones no thresholds; these are the template's (${options.templateFile}), not the device's — check them`);
  }

  // ── what could not be carried, as the file's header ──
  const pid = config.sensors.filter((s) => s.keys.includes('PIDInfo')).map((s) => s.name);
  const cdevBound = config.sensors.filter((s) => s.keys.includes('BindedCdevInfo')).map((s) => s.name);
  const profiles = config.sensors.filter((s) => s.keys.includes('Profile')).map((s) => s.name);
  const excluded = config.sensors.filter((s) => s.keys.includes('ExcludedPowerInfo')).map((s) => s.name);
  const models = config.sensors.filter((s) => s.formula === 'USE_ML_MODEL' || s.keys.some((k) => /Predict|Model|TFLite/i.test(k))).map((s) => s.name);
  const cold = config.sensors.filter((s) => s.keys.includes('ColdThreshold')).map((s) => s.name);
  const otherUnmapped = config.sensors
    .filter((s) => pixelLevels(s).length === 0 && !(socZones.includes(s.name)) && !usedAsInput(config, s.name))
    .map((s) => s.name);
  const header: string[] = [
    `edgegov policy skeleton imported from the Pixel Thermal HAL config ${basename(file)}`,
    `by \`edgegov policy import-pixel\`. Check every value before use.`,
    '',
    `Carried over: temperature sensors and virtual sensors (MAXIMUM/MINIMUM/WEIGHTED_AVG) as`,
    `sensors built \`from:\` zones, and the HotThreshold/HotHysteresis of sensors Android's thermal`,
    `status sees as limits (slots NONE…SHUTDOWN; NaN slots skipped; clear = set − hysteresis).`,
    `model, tiers, rules, control and the battery/memory sensors come from the template`,
    `${options.templateFile}: a thermal config knows nothing of the LLM's knobs.`,
    '',
    'NOT carried over (edgegov has no equivalent, or it is the HAL\'s own throttling):',
  ];
  const bullet = (label: string, items: string[]) => { if (items.length) header.push(`- ${label}: ${items.join(', ')}`); };
  bullet('PID controllers (PIDInfo: K_Po/K_Pu/K_I/K_D, S_Power, I_Max, Min/MaxAllocPower) on', pid);
  bullet(`cooling devices (${config.coolingDevices.length}; BindedCdevInfo weights, ceilings, LimitInfo, throttle/release steps)`, config.coolingDevices);
  if (cdevBound.length) bullet('sensors bound to cooling devices', cdevBound);
  bullet('power rails (ODPM; PowerRails, ExcludedPowerInfo, BindedPowerRail)', config.powerRails);
  bullet('excluded-power weighting on', excluded);
  bullet('runtime profiles (Profile) on', profiles);
  bullet('TFLite / linear predictors on', models);
  bullet('cold thresholds (ColdThreshold) on', cold);
  bullet('other top-level sections', config.otherSections);
  header.push('- polling (PollingDelay/PassiveDelay), StepRatio smoothing, VrThreshold, TempPath, TriggerSensor,');
  header.push('  SendPowerHint: edgegov samples every control.samplePeriod and reads zones by type');
  bullet('unused sensors without thresholds', otherUnmapped);
  if (notCarried.length) {
    header.push('- thresholds not carried:');
    for (const n of notCarried) header.push(`  - ${n}`);
  }

  const policyObj: Record<string, unknown> = {
    version: 1,
    name: options.name ?? policyNameFor(file),
    description: `Imported from the Pixel Thermal HAL config ${basename(file)} (edgegov policy import-pixel)`,
    sensors: sensorsOut,
  };
  if (Object.keys(virtualOut).length) policyObj.virtualSensors = virtualOut;
  policyObj.limits = limitsOut;

  const doc = new YAML.Document(policyObj);
  doc.commentBefore = commentLines(header);
  // The template's sections, with their comments, as nodes.
  for (const s of TEMPLATE_SECTIONS) {
    const node = template.get(s, true) as { clone?: () => unknown } | undefined;
    doc.set(s, node && typeof node.clone === 'function' ? node.clone() : template.get(s));
  }
  flowSmallCollections(doc.contents);
  for (const [k, lines] of Object.entries(sensorNotes)) commentKey(doc, ['sensors', k], lines.join('\n'));
  for (const [k, lines] of Object.entries(limitNotes)) commentKey(doc, ['limits', k], lines.join('\n'));
  commentKey(doc, ['model'], `From the template ${options.templateFile}: set them for your model and device.`);
  if (virtualOut && Object.keys(virtualOut).length) {
    commentKey(doc, ['virtualSensors'], 'Pixel sensors edgegov builds from zones (°C); names are the Pixel names, lower-cased');
  }
  return { yaml: doc.toString({ lineWidth: 0 }), sensors: imported };
}

/** edgegov's default plausible range for temperatures (src/policy/compile.ts DEFAULT_RANGE). */
const DEFAULT_TEMPERATURE_RANGE_C: [number, number] = [-40, 150];

/**
 * A threshold outside the sensor's plausible range could never trigger (the loader rejects
 * it), so the range grows to hold every threshold with a margin.
 */
function widenRange(spec: Record<string, unknown> | undefined, levels: ImportedLevel[]): void {
  if (!spec || levels.length === 0) return;
  const parse = (v: unknown): number | undefined => {
    if (typeof v === 'number') return v;
    const m = typeof v === 'string' ? /^\s*(-?\d+(?:\.\d+)?)\s*°?C\s*$/.exec(v) : null;
    return m ? Number(m[1]) : undefined;
  };
  const range = Array.isArray(spec.range) ? spec.range : undefined;
  const lo = (range && parse(range[0])) ?? DEFAULT_TEMPERATURE_RANGE_C[0];
  const hi = (range && parse(range[1])) ?? DEFAULT_TEMPERATURE_RANGE_C[1];
  const minSet = Math.min(...levels.map((l) => l.setC));
  const maxSet = Math.max(...levels.map((l) => l.setC));
  if (minSet >= lo && maxSet <= hi) return;
  spec.range = [degrees(Math.min(lo, Math.floor(minSet) - 10)), degrees(Math.max(hi, Math.ceil(maxSet) + 10))];
}

/** `thermal_info_config_shiba.json` → `pixel-shiba`; `pixel4a-sunfish_thermal_info_config.json` → `pixel4a-sunfish`. */
export function policyNameFor(file: string): string {
  const base = basename(file).replace(/\.json$/i, '').replace(/thermal_info_config/i, '').replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^[-_]+|[-_]+$/g, '');
  if (!base) return 'pixel-import';
  return /^pixel/i.test(base) ? base : `pixel-${base}`;
}

function usedAsInput(config: PixelConfig, name: string): boolean {
  return config.sensors.some((s) => s.combination.includes(name));
}

/** Keeps a template sensor's plausibility settings (range, critical, maxSlew), not its source. */
function pickSensorAttrs(spec: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!spec) return {};
  const { from: _from, ...rest } = spec;
  return rest;
}

/** Reads the config and the template from disk; errors name the file. */
export async function importPixelFile(path: string, templatePath: string | URL = DEFAULT_TEMPLATE_URL): Promise<ImportResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw envErrorFrom(err, path);
  }
  const templateFile = typeof templatePath === 'string' ? templatePath : 'policies/default.yaml';
  let templateText: string;
  try {
    templateText = await readFile(templatePath, 'utf8');
  } catch (err) {
    throw envErrorFrom(err, templateFile);
  }
  return importPixelConfig(text, path, { templateText, templateFile });
}
