/**
 * Semantic checks and unit normalisation: raw YAML data → compiled `Policy`.
 *
 * Works on the raw (unknown) data defensively, so it runs even when the schema found
 * problems elsewhere: the user gets EVERY problem in one pass. Whatever has the wrong type
 * is skipped here (the schema already reported it); units, cross-field rules and
 * references are reported here.
 */
import { SEVERITIES, THRESHOLD_SEVERITIES, type Severity } from '../core/severity.js';
import { didYouMean } from './did-you-mean.js';
import { SIGNAL_KIND, type SensorSignal } from './schema.js';
import type {
  BatteryRules, Combine, ControlSpec, LimitLevel, LimitSpec, MemoryRules, ModelSpec, OffloadRules, Policy,
  Performance, QoeRules, QuantSpec, Rules, SwitchCosts, SensorSpec, ThresholdSeverity, TierSpec,
} from './types.js';
import { DEFAULT_UNIT, parseQuantity, type UnitKind } from './units.js';
import { DEFAULT_PERFORMANCE } from '../core/speed.js';
import { QOE_DEFAULTS } from '../core/qoe.js';

export type Path = readonly (string | number)[];
/** Reports a problem at `path`; `key: true` points at the mapping key rather than its value. */
export type Reporter = (path: Path, message: string, opts?: { key?: boolean }) => void;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const has = (o: Obj, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/** Plausible range when a sensor gives none, by unit kind (documented in docs/policy.md). */
export const DEFAULT_RANGE: Record<UnitKind, [number, number]> = {
  temperature: [-40, 150],
  power: [-100, 100],
  percent: [0, 100],
  count: [0, 1],
  memMiB: [0, 16 * 1024 * 1024],
  bytes: [0, Number.MAX_SAFE_INTEGER],
  duration: [0, Number.MAX_SAFE_INTEGER],
  tokRate: [0, 100_000],
  byteRate: [0, Number.MAX_SAFE_INTEGER],
  opsRate: [0, Number.MAX_SAFE_INTEGER],
};

/** Hysteresis band used when a limit gives neither `clear` nor `hysteresis`, by unit kind. */
export const DEFAULT_BAND: Record<UnitKind, number> = {
  temperature: 2,
  power: 0.5,
  percent: 2,
  count: 0.5,
  memMiB: 100,
  bytes: 0,
  duration: 0,
  tokRate: 1,
  byteRate: 0,
  opsRate: 0,
};

/** Signals whose danger grows as they FALL. */
const FALLING: ReadonlySet<string> = new Set(['battery_pct', 'mem_avail_mb', 'tok_s']);

export const CONTROL_DEFAULTS = {
  samplePeriodMs: 500,
  dwellMs: 10_000,
  relaxStep: 1,
  maxEscalateStep: Infinity,
  forecastHorizonMs: 20_000,
  slopeWindowMs: 10_000,
  smoothingMs: 1_000,
  leaseTtlMs: 3_000,
  holdMs: 5_000,
  /** Pixel thermal HAL `MinStuckDuration` 120 s (research/01 §2.3). */
  stuckAfterMs: 120_000,
} as const;

export const RULE_DEFAULTS = { reserveMb: 300, onShortage: 'clamp-context', minContextLength: 512 } as const;





/** Bytes per KV element by cache type (research/03 §1.3). */
const KV_ELEMENT_BYTES = { f16: 2, q8_0: 34 / 32, q4_0: 18 / 32 } as const;

const VIRTUAL_NAME = /^[a-z][a-z0-9_]*$/;

function fmt(v: number, kind: UnitKind): string {
  const unit = DEFAULT_UNIT[kind];
  const n = Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  if (kind === 'count' || kind === 'bytes') return kind === 'bytes' ? `${n} bytes` : n;
  // Whole seconds read as the author most likely wrote them: "-10s", not "-10000ms".
  if (kind === 'duration' && v !== 0 && Number.isInteger(v / 1000)) return `${v / 1000}s`;
  return unit === '%' || unit === '°C' ? `${n}${unit === '°C' ? 'C' : '%'}` : `${n}${unit}`;
}

function fmtBytes(b: number): string {
  const gib = b / 2 ** 30;
  return gib >= 1 ? `${Number(gib.toFixed(2))}GiB` : `${Number((b / 2 ** 20).toFixed(1))}MiB`;
}

/** What a quant may be called: the part of a model file name before `.gguf` (models.ts). */
export const QUANT_NAME_RE = /^[A-Za-z0-9_]{1,64}$/;

export function compilePolicy(raw: unknown, file: string, report: Reporter): Policy | undefined {
  let failed = false;
  const problem: Reporter = (p, m, o) => {
    failed = true;
    report(p, m, o);
  };
  if (!isObj(raw)) return undefined;

  /** Parses a unit value; undefined when absent, mistyped (schema reports) or wrong (reported here). */
  const q = (path: Path, v: unknown, kind: UnitKind, rate = false): number | undefined => {
    if (v === undefined || (typeof v !== 'number' && typeof v !== 'string')) return undefined;
    const r = parseQuantity(v, kind, rate);
    if (!r.ok) {
      problem(path, r.message);
      return undefined;
    }
    return r.value;
  };
  const positive = (path: Path, v: number | undefined, kind: UnitKind, allowZero = false): number | undefined => {
    if (v === undefined) return undefined;
    if (allowZero ? v < 0 : v <= 0) {
      problem(path, `must be ${allowZero ? 'zero or more' : 'greater than zero'}, got ${fmt(v, kind)}`);
      return undefined;
    }
    return v;
  };

  // ── sensors ────────────────────────────────────────────────────────────────────
  const sensors: SensorSpec[] = [];
  const declared = new Map<string, UnitKind>();
  const virtualNames = new Set<string>();
  /** `onFault: cap <tier>` and `fallback:` references, checked once tiers and all sensors are known. */
  const pendingCaps: { path: Path; tier: string }[] = [];
  const pendingFallbacks: { path: Path; name: string; kind: UnitKind; fallback: string }[] = [];

  const compileFrom = (path: Path, v: unknown): Combine | undefined => {
    if (!isObj(v)) return undefined;
    const forms = (['max', 'min', 'avg', 'weighted'] as const).filter((k) => has(v, k));
    const strays = Object.keys(v).filter((k) => !['max', 'min', 'avg', 'weighted', 'offset'].includes(k));
    if (forms.length === 0 && strays.length > 0) return undefined; // the schema names the misspelt key
    if (forms.length !== 1) {
      problem(path, forms.length === 0
        ? 'needs exactly one of max, min, avg or weighted'
        : `gives ${forms.join(' and ')}; give exactly one of max, min, avg or weighted`);
      return undefined;
    }
    const form = forms[0];
    if (has(v, 'offset') && form !== 'weighted') {
      problem([...path, 'offset'], 'offset applies only to a weighted sum', { key: true });
    }
    const strip = (z: string) => (z.startsWith('zone.') ? z.slice(5) : z);
    if (form === 'weighted') {
      const w = v.weighted;
      if (!isObj(w)) return undefined;
      const terms = Object.entries(w).filter(([, x]) => typeof x === 'number').map(([zone, weight]) => ({ zone: strip(zone), weight: weight as number }));
      if (Object.keys(w).length === 0) problem([...path, 'weighted'], 'a weighted sum needs at least one zone');
      const offset = q([...path, 'offset'], v.offset, 'temperature') ?? 0;
      return { kind: 'weighted', terms, offset };
    }
    const zones = v[form];
    if (!Array.isArray(zones)) return undefined;
    return { kind: form, zones: zones.filter((z): z is string => typeof z === 'string').map(strip) };
  };

  const compileSensor = (path: Path, name: string, kind: UnitKind, v: Obj): SensorSpec => {
    let [min, max] = DEFAULT_RANGE[kind];
    if (Array.isArray(v.range) && v.range.length === 2) {
      const lo = q([...path, 'range', 0], v.range[0], kind);
      const hi = q([...path, 'range', 1], v.range[1], kind);
      if (lo !== undefined && hi !== undefined) {
        if (lo >= hi) problem([...path, 'range'], `low end ${fmt(lo, kind)} must be below high end ${fmt(hi, kind)}`);
        else [min, max] = [lo, hi]; // a reversed range is reported once, not again at every limit
      }
    }
    let maxSlewPerS = Infinity;
    if (v.maxSlew === 'off') maxSlewPerS = Infinity;
    else {
      const s = positive([...path, 'maxSlew'], q([...path, 'maxSlew'], v.maxSlew, kind, true), kind);
      if (s !== undefined) maxSlewPerS = s;
    }
    const spec: SensorSpec = { name, min, max, critical: v.critical === true, maxSlewPerS };
    if (typeof v.onFault === 'string') {
      const text = v.onFault.trim();
      const cap = /^cap\s+(\S+)$/.exec(text);
      if (text === 'ignore' || text === 'hold' || text === 'safe') spec.onFault = { kind: text };
      else if (cap) {
        spec.onFault = { kind: 'cap', tier: cap[1] };
        pendingCaps.push({ path: [...path, 'onFault'], tier: cap[1] });
      } else {
        problem([...path, 'onFault'], `must be ignore, hold, safe or "cap <tier>" (e.g. "cap lean"), got "${v.onFault}"`);
      }
    }
    if (typeof v.fallback === 'string') {
      spec.fallback = v.fallback;
      pendingFallbacks.push({ path: [...path, 'fallback'], name, kind, fallback: v.fallback });
    }
    if (v.hold !== undefined) {
      const h = positive([...path, 'hold'], q([...path, 'hold'], v.hold, 'duration'), 'duration');
      if (h !== undefined) spec.holdMs = h;
    }
    if (v.from !== undefined) {
      if (kind !== 'temperature') {
        problem([...path, 'from'], `only temperature sensors can be built from thermal zones; ${name} is measured in ${DEFAULT_UNIT[kind]}`, { key: true });
      } else {
        const src = compileFrom([...path, 'from'], v.from);
        if (src) spec.source = src;
      }
    }
    return spec;
  };

  if (isObj(raw.sensors)) {
    for (const [name, v] of Object.entries(raw.sensors)) {
      if (!has(SIGNAL_KIND, name) || !isObj(v)) continue; // schema reports unknown keys / types
      const kind = SIGNAL_KIND[name as SensorSignal];
      sensors.push(compileSensor(['sensors', name], name, kind, v));
      declared.set(name, kind);
    }
  }
  if (isObj(raw.virtualSensors)) {
    for (const [name, v] of Object.entries(raw.virtualSensors)) {
      const path = ['virtualSensors', name];
      if (has(SIGNAL_KIND, name) || name === 't_ms') {
        problem(path, `"${name}" is a canonical signal; declare it under sensors (with \`from\` to build it from zones)`, { key: true });
        continue;
      }
      if (!VIRTUAL_NAME.test(name)) {
        problem(path, `virtual sensor name "${name}" must be lower-case letters, digits and _ and start with a letter (e.g. vskin_c)`, { key: true });
        continue;
      }
      if (!isObj(v)) continue;
      sensors.push(compileSensor(path, name, 'temperature', v));
      declared.set(name, 'temperature');
      virtualNames.add(name);
    }
  }

  // ── limits ─────────────────────────────────────────────────────────────────────
  const limits: LimitSpec[] = [];
  if (isObj(raw.limits)) {
    for (const [signal, v] of Object.entries(raw.limits)) {
      const path = ['limits', signal];
      const kind = declared.get(signal);
      if (kind === undefined) {
        // Declared but malformed: the schema already reported the declaration itself.
        const attempted = (isObj(raw.sensors) && has(raw.sensors, signal)) || (isObj(raw.virtualSensors) && has(raw.virtualSensors, signal));
        if (attempted) continue;
        const where = has(SIGNAL_KIND, signal)
          ? `"${signal}" is not declared under sensors`
          : `no sensor or virtual sensor named "${signal}"${didYouMean(signal, [...declared.keys(), ...Object.keys(SIGNAL_KIND)])}`;
        problem(path, `${where}; every limit needs a declared sensor`, { key: true });
        continue;
      }
      if (kind === 'count') {
        problem(path, `${signal} is 0/1 and cannot carry thresholds; use rules.battery for charge-dependent caps`, { key: true });
        continue;
      }
      if (!isObj(v)) continue;
      let direction: 'rising' | 'falling';
      if (v.direction === 'rising' || v.direction === 'falling') direction = v.direction;
      else if (virtualNames.has(signal)) {
        if (v.direction === undefined) problem(path, `direction (rising or falling) is required for virtual sensor "${signal}"`);
        continue;
      } else direction = FALLING.has(signal) ? 'falling' : 'rising';

      let band = DEFAULT_BAND[kind];
      if (v.hysteresis !== undefined) {
        const h = positive([...path, 'hysteresis'], q([...path, 'hysteresis'], v.hysteresis, kind), kind);
        if (h !== undefined) band = h;
      }
      const sensor = sensors.find((s) => s.name === signal);
      const levels: LimitLevel[] = [];
      let prev: { severity: ThresholdSeverity; setAt: number } | undefined;
      let named = 0;
      for (const severity of THRESHOLD_SEVERITIES) {
        const lv = v[severity];
        if (lv === undefined) continue;
        named++;
        const lpath = [...path, severity];
        let setAt: number | undefined;
        let clearAt: number | undefined;
        let setPath: Path = lpath;
        let clearPath: Path = lpath;
        if (isObj(lv)) {
          setPath = [...lpath, 'set'];
          clearPath = [...lpath, 'clear'];
          setAt = q(setPath, lv.set, kind);
          if (lv.clear !== undefined) {
            clearAt = q(clearPath, lv.clear, kind);
            if (clearAt === undefined) continue;
          }
        } else setAt = q(lpath, lv, kind);
        if (setAt === undefined) continue;
        // Rounded to 1e-9 so 39C − 1.9C reads 37.1, not 37.099999999999994.
        const derived = clearAt === undefined;
        const clear = clearAt ?? Math.round((direction === 'rising' ? setAt - band : setAt + band) * 1e9) / 1e9;
        // A clear on the wrong side of set never clears. Derived from the band, that is a band lost
        // to the rounding or the float precision at set (5e-324, found by fuzzing).
        if (direction === 'rising' ? clear >= setAt : clear <= setAt) {
          if (derived) problem(v.hysteresis !== undefined ? [...path, 'hysteresis'] : lpath, `hysteresis ${fmt(band, kind)} is too small to tell clear from set ${fmt(setAt, kind)} at this precision`);
          else problem(clearPath, `clear ${fmt(clear, kind)} never clears: on a ${direction} limit it must be ${direction === 'rising' ? 'below' : 'above'} set ${fmt(setAt, kind)}`);
          continue;
        }
        if (sensor && (setAt < sensor.min || setAt > sensor.max)) {
          problem(setPath, `${fmt(setAt, kind)} is outside ${signal}'s plausible range [${fmt(sensor.min, kind)}, ${fmt(sensor.max, kind)}], so it could never trigger`);
        }
        if (prev && (direction === 'rising' ? setAt <= prev.setAt : setAt >= prev.setAt)) {
          problem(setPath, `${severity} at ${fmt(setAt, kind)} must be ${direction === 'rising' ? 'above' : 'below'} ${prev.severity} at ${fmt(prev.setAt, kind)}: on a ${direction} limit thresholds ${direction === 'rising' ? 'increase' : 'decrease'} with severity`);
        }
        prev = { severity, setAt };
        levels.push({ severity, setAt, clearAt: clear });
      }
      if (named === 0) problem(path, `names no severity; give at least one of ${THRESHOLD_SEVERITIES.join(', ')}`, { key: true });
      const spec: LimitSpec = { signal, direction, levels };
      if (typeof v.forecast === 'boolean') spec.forecast = v.forecast;
      limits.push(spec);
    }
  }

  // ── model ──────────────────────────────────────────────────────────────────────
  const quants: QuantSpec[] = [];
  let model: ModelSpec | undefined;
  if (isObj(raw.model)) {
    const m = raw.model;
    let kvBytesPerToken: number | undefined;
    if (m.kvBytesPerToken !== undefined && m.geometry !== undefined) {
      problem(['model', 'geometry'], 'give kvBytesPerToken or geometry, not both', { key: true });
    } else if (m.kvBytesPerToken !== undefined) {
      kvBytesPerToken = positive(['model', 'kvBytesPerToken'], q(['model', 'kvBytesPerToken'], m.kvBytesPerToken, 'bytes'), 'bytes');
    } else if (isObj(m.geometry)) {
      const g = m.geometry;
      const t = (g.kvCacheType ?? 'f16') as keyof typeof KV_ELEMENT_BYTES;
      if (typeof g.layers === 'number' && typeof g.kvHeads === 'number' && typeof g.headDim === 'number' && has(KV_ELEMENT_BYTES, t)) {
        kvBytesPerToken = 2 * g.layers * g.kvHeads * g.headDim * KV_ELEMENT_BYTES[t];
      }
    } else if (m.geometry === undefined) {
      problem(['model'], 'needs kvBytesPerToken or geometry (layers, kvHeads, headDim) to size the KV cache');
    }
    const overheadBytes = positive(['model', 'overhead'], q(['model', 'overhead'], m.overhead, 'bytes'), 'bytes', true);
    const batchBytesPerToken = m.batchBytesPerToken === undefined ? 0
      : positive(['model', 'batchBytesPerToken'], q(['model', 'batchBytesPerToken'], m.batchBytesPerToken, 'bytes'), 'bytes', true);
    if (isObj(m.quants)) {
      if (Object.keys(m.quants).length === 0) problem(['model', 'quants'], 'names no quantization; give at least one, e.g. q4_k_m: { weights: 2GiB, qualityCost: 0.028 }');
      for (const [name, qv] of Object.entries(m.quants)) {
        // A quant name picks a model file (`*-<quant>.gguf` in the models directory): it must stay
        // a plain name, so no policy can point serve at a path of its choosing.
        if (!QUANT_NAME_RE.test(name)) {
          problem(['model', 'quants', name], `quant name "${name}" must be letters, digits and _ only (it selects a *-<quant>.gguf file in the models directory; no paths)`);
          continue;
        }
        if (!isObj(qv)) continue;
        const w = positive(['model', 'quants', name, 'weights'], q(['model', 'quants', name, 'weights'], qv.weights, 'bytes'), 'bytes');
        if (w === undefined || typeof qv.qualityCost !== 'number') continue;
        quants.push({ name, weightsBytes: Math.round(w), qualityCost: qv.qualityCost });
      }
    }
    let switchCost: SwitchCosts | undefined;
    let switchOk = true;
    if (isObj(m.switchCost)) {
      const sc = m.switchCost;
      const ms = (key: string): number => {
        if (sc[key] === undefined) return 0;
        const v = positive(['model', 'switchCost', key], q(['model', 'switchCost', key], sc[key], 'duration'), 'duration', true);
        if (v === undefined) switchOk = false;
        return v ?? 0;
      };
      switchCost = { quantMs: ms('quant'), contextMs: ms('context'), batchMs: ms('batch'), threadsMs: ms('threads'), pacingMs: ms('pacing') };
    }
    const performance: Performance = { ...DEFAULT_PERFORMANCE };
    let perfOk = true;
    if (isObj(m.performance)) {
      const pf = m.performance;
      const at = (key: string, kind: 'byteRate' | 'opsRate' | 'duration', allowZero = false) => {
        if (pf[key] === undefined) return undefined;
        const v = positive(['model', 'performance', key], q(['model', 'performance', key], pf[key], kind), kind, allowZero);
        if (v === undefined) perfOk = false;
        return v;
      };
      const bw = at('memoryBandwidth', 'byteRate');
      const ops = at('prefillOps', 'opsRate');
      const fixed = at('fixedPerToken', 'duration', true);
      if (bw !== undefined) performance.memoryBandwidthBytesPerS = bw;
      if (ops !== undefined) performance.prefillOpsPerS = ops;
      if (fixed !== undefined) performance.fixedMsPerToken = fixed;
      performance.declared = bw !== undefined || ops !== undefined;
    }
    if (typeof m.name === 'string' && kvBytesPerToken !== undefined && overheadBytes !== undefined && batchBytesPerToken !== undefined && switchOk && perfOk) {
      model = {
        name: m.name,
        kvBytesPerToken,
        overheadBytes: Math.round(overheadBytes),
        batchBytesPerToken,
        quants,
        ...(switchCost ? { switchCost } : {}),
        performance,
      };
    }
  }
  const quantsKnown = isObj(raw.model) && isObj(raw.model.quants);
  const quantNames = quantsKnown ? Object.keys((raw.model as Obj).quants as Obj) : [];

  // ── tiers ──────────────────────────────────────────────────────────────────────
  const tiers: TierSpec[] = [];
  const tierNames: string[] = [];
  if (Array.isArray(raw.tiers)) {
    let prev: { spec: TierSpec; quant?: QuantSpec } | undefined;
    raw.tiers.forEach((t, i) => {
      const path = ['tiers', i];
      if (!isObj(t) || typeof t.name !== 'string') {
        prev = undefined;
        return;
      }
      if (tierNames.includes(t.name)) problem([...path, 'name'], `duplicate tier name "${t.name}"`);
      tierNames.push(t.name);
      const quant = typeof t.quant === 'string' ? quants.find((x) => x.name === t.quant) : undefined;
      if (typeof t.quant === 'string' && quantsKnown && !quantNames.includes(t.quant)) {
        problem([...path, 'quant'], `no quant "${t.quant}" in model.quants${didYouMean(t.quant, quantNames)}${quantNames.length ? ` (have: ${quantNames.join(', ')})` : ''}`);
      }
      const pacingMs = t.pacing === undefined ? 0 : positive([...path, 'pacing'], q([...path, 'pacing'], t.pacing, 'duration'), 'duration', true);
      const okInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x > 0;
      if (typeof t.quant !== 'string' || !okInt(t.contextLength) || !okInt(t.batchSize) || pacingMs === undefined || (t.threads !== undefined && !okInt(t.threads))) {
        prev = undefined;
        return;
      }
      const spec: TierSpec = { name: t.name, index: i, quant: t.quant, contextLength: t.contextLength, batchSize: t.batchSize, pacingMs };
      if (okInt(t.threads)) spec.threads = t.threads;
      for (const [key, field] of [['decode', 'decodeTokS'], ['prefill', 'prefillTokS']] as const) {
        if (t[key] === undefined) continue;
        const v = positive([...path, key], q([...path, key], t[key], 'tokRate'), 'tokRate');
        if (v !== undefined) spec[field] = v;
      }
      tiers.push(spec);
      if (prev) checkCostOrder(path, prev.spec, prev.quant, spec, quant, problem);
      prev = { spec, quant };
    });
  }

  // Without a usable tiers list every reference would dangle; the schema already said why.
  const tiersKnown = Array.isArray(raw.tiers) && raw.tiers.length > 0;
  const tierRef = (path: Path, v: unknown): number | undefined => {
    if (typeof v !== 'string' || !tiersKnown) return undefined;
    const idx = tierNames.indexOf(v);
    if (idx < 0) {
      problem(path, `no tier named "${v}"${didYouMean(v, tierNames)}${tierNames.length ? ` (tiers: ${tierNames.join(', ')})` : ''}`);
      return undefined;
    }
    return idx;
  };

  for (const c of pendingCaps) tierRef(c.path, c.tier);
  for (const f of pendingFallbacks) {
    const kind = declared.get(f.fallback);
    if (f.fallback === f.name) problem(f.path, `${f.name} cannot be its own fallback`);
    else if (kind === undefined) problem(f.path, `no sensor or virtual sensor named "${f.fallback}"${didYouMean(f.fallback, [...declared.keys()])}; a fallback must be declared too`);
    else if (kind !== f.kind) problem(f.path, `${f.fallback} is measured in ${DEFAULT_UNIT[kind]}, ${f.name} in ${DEFAULT_UNIT[f.kind]}; a fallback must measure the same thing`);
  }

  // ── rules ──────────────────────────────────────────────────────────────────────
  let rules: Rules | undefined;
  if (isObj(raw.rules)) {
    const r = raw.rules;
    const severityCaps: Partial<Record<Severity, string>> = {};
    if (isObj(r.severityCaps)) {
      let capIdx = 0;
      let capFrom: Severity = 'none';
      for (const s of SEVERITIES) {
        const v = r.severityCaps[s];
        if (v !== undefined) {
          const idx = tierRef(['rules', 'severityCaps', s], v);
          if (idx !== undefined) {
            if (idx < capIdx) {
              problem(['rules', 'severityCaps', s], `${s} allows "${tierNames[idx]}", richer than "${tierNames[capIdx]}" allowed at the milder ${capFrom}; a worse severity must never allow a richer tier`);
            } else {
              capIdx = idx;
              capFrom = s;
            }
          }
        }
        if (tierNames.length > 0) severityCaps[s] = tierNames[capIdx];
      }
    }

    let offload: OffloadRules = { cloudAllowed: false };
    if (isObj(r.offload)) {
      const o = r.offload;
      offload = { cloudAllowed: o.cloud === 'allowed' };
      const sev = (x: unknown) => (typeof x === 'string' && (THRESHOLD_SEVERITIES as readonly string[]).includes(x) ? (x as ThresholdSeverity) : undefined);
      const cloudAt = sev(o.cloudAt);
      const pauseAt = sev(o.pauseAt);
      if (cloudAt) {
        if (!offload.cloudAllowed) problem(['rules', 'offload', 'cloudAt'], 'has no effect while cloud is "never"; set cloud: allowed or remove cloudAt', { key: true });
        offload.cloudAtSeverity = cloudAt;
      }
      if (pauseAt) {
        if (cloudAt && SEVERITIES.indexOf(pauseAt) <= SEVERITIES.indexOf(cloudAt)) {
          problem(['rules', 'offload', 'pauseAt'], `pause at ${pauseAt} must be a worse severity than cloudAt ${cloudAt}, or the cloud is never used`);
        }
        offload.pauseAtSeverity = pauseAt;
      }
      const tok = positive(['rules', 'offload', 'minLocalTokS'], q(['rules', 'offload', 'minLocalTokS'], o.minLocalTokS, 'tokRate'), 'tokRate');
      if (tok !== undefined) offload.minLocalTokS = tok;
      if (o.cloudFirstToken !== undefined) {
        const v = positive(['rules', 'offload', 'cloudFirstToken'], q(['rules', 'offload', 'cloudFirstToken'], o.cloudFirstToken, 'duration'), 'duration', true);
        if (v !== undefined) offload.cloudFirstTokenMs = v;
      }
      if (o.cloudTokS !== undefined) {
        const v = positive(['rules', 'offload', 'cloudTokS'], q(['rules', 'offload', 'cloudTokS'], o.cloudTokS, 'tokRate'), 'tokRate');
        if (v !== undefined) offload.cloudTokS = v;
      }
    }

    const qoe: QoeRules = { ...QOE_DEFAULTS };
    if (isObj(r.qoe)) {
      const qq = r.qoe;
      for (const [key, field] of [['firstToken', 'chatFirstTokenMs'], ['documentFirstToken', 'documentFirstTokenMs']] as const) {
        if (qq[key] === undefined) continue;
        const v = positive(['rules', 'qoe', key], q(['rules', 'qoe', key], qq[key], 'duration'), 'duration', true);
        if (v !== undefined) qoe[field] = v;
      }
      if (qq.readingPace !== undefined) {
        const v = positive(['rules', 'qoe', 'readingPace'], q(['rules', 'qoe', 'readingPace'], qq.readingPace, 'tokRate'), 'tokRate');
        if (v !== undefined) qoe.readTokS = v;
      }
    }

    const memory: MemoryRules = { ...RULE_DEFAULTS };
    const leanestCtx = tiers.length ? Math.min(...tiers.map((t) => t.contextLength)) : undefined;
    if (leanestCtx !== undefined) memory.minContextLength = Math.min(RULE_DEFAULTS.minContextLength, leanestCtx);
    if (isObj(r.memory)) {
      const mm = r.memory;
      const reserve = positive(['rules', 'memory', 'reserve'], q(['rules', 'memory', 'reserve'], mm.reserve, 'memMiB'), 'memMiB', true);
      if (reserve !== undefined) memory.reserveMb = reserve;
      if (mm.onShortage === 'clamp-context' || mm.onShortage === 'step-quant') memory.onShortage = mm.onShortage;
      const minCtx = mm.minContextLength;
      if (typeof minCtx === 'number' && Number.isInteger(minCtx) && minCtx > 0) {
        memory.minContextLength = minCtx;
        const over = tiers.find((t) => t.contextLength < minCtx);
        if (over) problem(['rules', 'memory', 'minContextLength'], `${minCtx} is above tier "${over.name}"'s contextLength ${over.contextLength}; clamping must never grow a context`);
      }
    }

    const battery: { lowChargeCaps: { belowPct: number; tier: string }[]; onBatteryTier?: string } = { lowChargeCaps: [] };
    if (isObj(r.battery)) {
      const b = r.battery;
      if (Array.isArray(b.lowCharge)) {
        const caps: { i: number; below: number; idx: number }[] = [];
        b.lowCharge.forEach((e, i) => {
          if (!isObj(e)) return;
          const p = ['rules', 'battery', 'lowCharge', i];
          const below = q([...p, 'below'], e.below, 'percent');
          if (below !== undefined && (below <= 0 || below > 100)) problem([...p, 'below'], `charge ${fmt(below, 'percent')} must be within (0%, 100%]`);
          const idx = tierRef([...p, 'tier'], e.tier);
          if (below !== undefined && idx !== undefined && below > 0 && below <= 100) {
            battery.lowChargeCaps.push({ belowPct: below, tier: tierNames[idx] });
            caps.push({ i, below, idx });
          }
        });
        battery.lowChargeCaps.sort((a, c) => c.belowPct - a.belowPct);
        // Like severity caps: less charge must never allow a richer tier. The core applies the
        // leanest matching cap, so such an entry would be dead while reading as a relaxation.
        caps.sort((a, c) => c.below - a.below);
        for (let k = 1; k < caps.length; k++) {
          const prev = caps[k - 1];
          const cur = caps[k];
          if (cur.idx < prev.idx && cur.below < prev.below) {
            problem(['rules', 'battery', 'lowCharge', cur.i, 'tier'], `below ${fmt(cur.below, 'percent')} allows "${tierNames[cur.idx]}", richer than "${tierNames[prev.idx]}" below ${fmt(prev.below, 'percent')}; less charge must never allow a richer tier`);
          }
        }
      }
      if (b.onBattery !== undefined) {
        const idx = tierRef(['rules', 'battery', 'onBattery'], b.onBattery);
        if (idx !== undefined) battery.onBatteryTier = tierNames[idx];
      }
    }
    rules = { severityCaps, offload, memory, battery: battery as BatteryRules, qoe };
  }

  // ── control ────────────────────────────────────────────────────────────────────
  let control: ControlSpec | undefined;
  if (isObj(raw.control)) {
    const c = raw.control;
    const dur = (key: string, def: number, allowZero = false) => {
      if (c[key] === undefined) return def;
      return positive(['control', key], q(['control', key], c[key], 'duration'), 'duration', allowZero);
    };
    const int = (key: string, def: number) => (typeof c[key] === 'number' && Number.isInteger(c[key]) && (c[key] as number) > 0 ? (c[key] as number) : def);
    const samplePeriodMs = dur('samplePeriod', CONTROL_DEFAULTS.samplePeriodMs);
    const dwellMs = dur('dwell', CONTROL_DEFAULTS.dwellMs, true);
    const forecastHorizonMs = dur('forecastHorizon', CONTROL_DEFAULTS.forecastHorizonMs, true);
    const slopeWindowMs = dur('slopeWindow', CONTROL_DEFAULTS.slopeWindowMs);
    const smoothingMs = dur('smoothing', CONTROL_DEFAULTS.smoothingMs, true);
    const leaseTtlMs = dur('leaseTtl', CONTROL_DEFAULTS.leaseTtlMs);
    const holdMs = dur('hold', CONTROL_DEFAULTS.holdMs, true);
    const stuckAfterMs = dur('stuckAfter', CONTROL_DEFAULTS.stuckAfterMs);
    const safeIdx = tierRef(['control', 'safeTier'], c.safeTier);
    if (samplePeriodMs !== undefined) {
      if (slopeWindowMs !== undefined && slopeWindowMs < 2 * samplePeriodMs) {
        problem([...(c.slopeWindow === undefined ? ['control'] : ['control', 'slopeWindow'])], `slope window ${fmt(slopeWindowMs, 'duration')} must span at least two sample periods (${fmt(2 * samplePeriodMs, 'duration')})`);
      }
      if (leaseTtlMs !== undefined && leaseTtlMs <= samplePeriodMs) {
        problem([...(c.leaseTtl === undefined ? ['control'] : ['control', 'leaseTtl'])], `lease ${fmt(leaseTtlMs, 'duration')} must outlast the sample period ${fmt(samplePeriodMs, 'duration')}, or every lease expires between decisions`);
      }
    }
    if (samplePeriodMs !== undefined && dwellMs !== undefined && forecastHorizonMs !== undefined && slopeWindowMs !== undefined
      && smoothingMs !== undefined && leaseTtlMs !== undefined && holdMs !== undefined && safeIdx !== undefined
      && stuckAfterMs !== undefined) {
      control = {
        samplePeriodMs, dwellMs, relaxStep: int('relaxStep', CONTROL_DEFAULTS.relaxStep),
        maxEscalateStep: c.maxEscalateStep === 'unlimited' || c.maxEscalateStep === undefined ? Infinity : int('maxEscalateStep', Infinity),
        forecastHorizonMs, slopeWindowMs, smoothingMs, safeTier: tierNames[safeIdx], leaseTtlMs, holdMs,
        stuckAfterMs,
      };
    }
  }

  if (failed || !model || !rules || !control || typeof raw.name !== 'string' || tiers.length === 0) return undefined;
  const policy: Policy = { file, name: raw.name, sensors, limits, model, tiers, rules, control };
  if (typeof raw.description === 'string') policy.description = raw.description;
  return policy;
}

/**
 * Tiers run richest → leanest. "Leaner" is defined knob by knob: a tier may not use more
 * context, batch or threads, less pacing, or a quant with more weight bytes or less quality
 * loss than the tier above it — and it must differ in at least one knob. Then memory need
 * (weights + KV·context + batch buffer) is non-increasing and quality cost non-decreasing
 * down the ladder, which is what lets the core step "one tier leaner" safely.
 */
function checkCostOrder(path: Path, above: TierSpec, aq: QuantSpec | undefined, t: TierSpec, tq: QuantSpec | undefined, problem: Reporter): void {
  const why = `tiers run richest → leanest, so "${t.name}" may not need more than "${above.name}" above it`;
  let leaner = false;
  const cmp = (key: keyof TierSpec, mine: number | undefined, theirs: number | undefined, moreIsRicher: boolean) => {
    if (mine === undefined || theirs === undefined) return;
    if (moreIsRicher ? mine > theirs : mine < theirs) problem([...path, key === 'pacingMs' ? 'pacing' : key], `${mine}${key === 'pacingMs' ? 'ms' : ''} ${moreIsRicher ? 'is more' : 'is less'} than ${theirs}${key === 'pacingMs' ? 'ms' : ''}: ${why}`);
    else if (mine !== theirs) leaner = true;
  };
  cmp('contextLength', t.contextLength, above.contextLength, true);
  cmp('batchSize', t.batchSize, above.batchSize, true);
  cmp('threads', t.threads, above.threads, true);
  cmp('pacingMs', t.pacingMs, above.pacingMs, false);
  if (aq && tq && aq !== tq) {
    if (tq.weightsBytes > aq.weightsBytes || tq.qualityCost < aq.qualityCost) {
      problem([...path, 'quant'], `${tq.name} (${fmtBytes(tq.weightsBytes)}, quality cost ${tq.qualityCost}) is richer than ${aq.name} (${fmtBytes(aq.weightsBytes)}, quality cost ${aq.qualityCost}): ${why}`);
    } else leaner = true;
  }
  if (!leaner && t.quant === above.quant && t.contextLength === above.contextLength && t.batchSize === above.batchSize
    && t.threads === above.threads && t.pacingMs === above.pacingMs) {
    problem([...path, 'name'], `tier "${t.name}" has the same knobs as "${above.name}" above it; each tier must be leaner in at least one knob`);
  }
}
