/**
 * Values with units in policy YAML: `45C`, `4.5W`, `4500mW`, `20%`, `300MiB`, `512MB`,
 * `500ms`, `2s`, `1min`, `3.4GiB`, `8tok/s`, and rates such as `20C/s`.
 *
 * Each field has a kind; a value may be a bare number (the kind's documented default
 * unit) or a string of a number and one of the kind's units. Anything else is an error
 * that names the accepted units — a unit typo must never silently become a wrong number.
 *
 * Decimal and binary prefixes are distinct and converted exactly: `MB` = 10^6 bytes,
 * `MiB` = 2^20 bytes (so `512MB` = 488.28125 MiB). Decimal scaling is done in the
 * number's own decimal exponent (`1.1s` → `1.1e3` → 1100 exactly, not 1100.0000000000002).
 */

import { closest } from './did-you-mean.js';

export type UnitKind =
  | 'temperature' // compiled to °C
  | 'power' // compiled to W
  | 'percent' // compiled to %
  | 'memMiB' // compiled to MiB (memory limits, reserve)
  | 'bytes' // compiled to bytes (model weights, KV per token)
  | 'duration' // compiled to ms
  | 'tokRate' // compiled to tok/s
  | 'byteRate' // compiled to bytes/s (memory bandwidth)
  | 'opsRate' // compiled to operations/s (compute)
  | 'count'; // a bare number only (0/1 signals)

interface UnitDef {
  /** Multiply by 10^pow10 (exact, in decimal) … */
  pow10: number;
  /** … then by this factor (powers of two and 60/3600 only). */
  factor: number;
}

const MiB = 1024 * 1024;

const UNITS: Record<UnitKind, Record<string, UnitDef>> = {
  temperature: { C: { pow10: 0, factor: 1 }, '°C': { pow10: 0, factor: 1 } },
  power: { W: { pow10: 0, factor: 1 }, mW: { pow10: -3, factor: 1 } },
  percent: { '%': { pow10: 0, factor: 1 } },
  bytes: {
    B: { pow10: 0, factor: 1 },
    kB: { pow10: 3, factor: 1 },
    MB: { pow10: 6, factor: 1 },
    GB: { pow10: 9, factor: 1 },
    TB: { pow10: 12, factor: 1 },
    KiB: { pow10: 0, factor: 1024 },
    MiB: { pow10: 0, factor: MiB },
    GiB: { pow10: 0, factor: 1024 * MiB },
    TiB: { pow10: 0, factor: 1024 * 1024 * MiB },
  },
  memMiB: {}, // filled below: the byte units, divided by 2^20
  duration: {
    ms: { pow10: 0, factor: 1 },
    s: { pow10: 3, factor: 1 },
    min: { pow10: 0, factor: 60_000 },
    h: { pow10: 0, factor: 3_600_000 },
  },
  tokRate: { 'tok/s': { pow10: 0, factor: 1 } },
  byteRate: {
    'MB/s': { pow10: 6, factor: 1 },
    'GB/s': { pow10: 9, factor: 1 },
    'MiB/s': { pow10: 0, factor: MiB },
    'GiB/s': { pow10: 0, factor: 1024 * MiB },
  },
  opsRate: { GOPS: { pow10: 9, factor: 1 }, TOPS: { pow10: 12, factor: 1 } },
  count: {},
};
UNITS.memMiB = UNITS.bytes;

/** What a bare number means, per kind (documented in docs/policy.md). */
export const DEFAULT_UNIT: Record<UnitKind, string> = {
  temperature: '°C',
  power: 'W',
  percent: '%',
  memMiB: 'MiB',
  bytes: 'bytes',
  duration: 'ms',
  tokRate: 'tok/s',
  byteRate: 'bytes/s',
  opsRate: 'operations/s',
  count: '(no unit)',
};

const NOUN: Record<UnitKind, string> = {
  temperature: 'a temperature',
  power: 'a power',
  percent: 'a percentage',
  memMiB: 'a memory size',
  bytes: 'a size in bytes',
  duration: 'a duration',
  tokRate: 'a decode speed',
  byteRate: 'a memory bandwidth',
  opsRate: 'a compute rate',
  count: 'a plain number',
};

export const EXAMPLE: Record<UnitKind, string> = {
  temperature: '45C',
  power: '4.5W',
  percent: '20%',
  memMiB: '300MiB',
  bytes: '3.4GiB',
  duration: '2s',
  tokRate: '8tok/s',
  byteRate: '46GB/s',
  opsRate: '0.6TOPS',
  count: '1',
};

/** Common slips and what the user most likely meant; suggested, never accepted. */
const SLIPS: Record<string, string> = {
  sec: 's', secs: 's', second: 's', seconds: 's', S: 's', m: 'min', mins: 'min', minute: 'min',
  minutes: 'min', hr: 'h', hrs: 'h', hour: 'h', hours: 'h', msec: 'ms', MS: 'ms',
  c: 'C', degC: 'C', 'ºC': '°C', w: 'W', mw: 'mW', MW: 'mW', kw: 'W',
  mb: 'MB" or "MiB', Mb: 'MB" or "MiB', mib: 'MiB', MIB: 'MiB', gb: 'GB" or "GiB', Gb: 'GB" or "GiB', gib: 'GiB',
  GIB: 'GiB', KB: 'kB" or "KiB', kb: 'kB" or "KiB', kib: 'KiB', b: 'B', pct: '%', percent: '%',
  'tok/sec': 'tok/s', 'tokens/s': 'tok/s', 't/s': 'tok/s',
};

const NUMBER_RE_SRC = '[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?';
const SPLIT_RE = new RegExp(`^\\s*(${NUMBER_RE_SRC})\\s*(.*?)\\s*$`, 's');

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export function unitsOf(kind: UnitKind): string[] {
  return Object.keys(UNITS[kind]);
}

/** JSON-Schema `pattern` for a string value of this kind (editor help; the loader is the judge). */
export function unitPattern(kind: UnitKind, rate = false): string {
  const us = unitsOf(kind).map((u) => escapeRe(rate ? `${u}/s` : u));
  if (rate) us.push(...unitsOf(kind).map((u) => escapeRe(`${u}/min`)));
  const alt = us.length ? `(?:${us.join('|')})${rate ? '' : '?'}` : '';
  return `^\\s*${NUMBER_RE_SRC}\\s*${alt}\\s*$`;
}

/** Pattern accepting any unit this language knows (for limits, whose kind depends on the signal). */
export function anyUnitPattern(): string {
  const all = new Set<string>();
  for (const k of ['temperature', 'power', 'percent', 'bytes', 'tokRate'] as UnitKind[]) for (const u of unitsOf(k)) all.add(escapeRe(u));
  return `^\\s*${NUMBER_RE_SRC}\\s*(?:${[...all].join('|')})?\\s*$`;
}

export type UnitResult = { ok: true; value: number } | { ok: false; message: string };

/** Multiplies a decimal numeral by 10^pow10 without binary rounding on the way. */
function scaleDecimal(numeral: string, pow10: number): number {
  if (pow10 === 0) return Number(numeral);
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:[eE]([+-]?\d+))?$/.exec(numeral);
  if (!m) return Number(numeral) * 10 ** pow10;
  const exp = (m[2] ? Number(m[2]) : 0) + pow10;
  return Number(`${m[1]}e${exp}`);
}

function otherKindOf(unit: string, kind: UnitKind): UnitKind | undefined {
  for (const k of ['temperature', 'power', 'percent', 'bytes', 'duration', 'tokRate', 'byteRate', 'opsRate'] as UnitKind[]) {
    if (k === kind || (kind === 'memMiB' && k === 'bytes')) continue;
    if (Object.prototype.hasOwnProperty.call(UNITS[k], unit)) return k;
  }
  return undefined;
}

function acceptedList(kind: UnitKind, rate: boolean): string {
  const us = unitsOf(kind);
  if (us.length === 0) return 'a plain number';
  const shown = rate ? [...us.map((u) => `${u}/s`), ...us.map((u) => `${u}/min`)] : us;
  return `${shown.join(', ')} (a bare number means ${DEFAULT_UNIT[kind]}${rate ? '/s' : ''})`;
}

function describe(raw: unknown): string {
  return typeof raw === 'string' ? JSON.stringify(raw) : String(raw);
}

/**
 * Parses a value of `kind`. `rate` parses a per-time rate of that kind (`20C/s`, `1C/min`),
 * returned per second.
 */
export function parseQuantity(raw: unknown, kind: UnitKind, rate = false): UnitResult {
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) return { ok: false, message: `${describe(raw)} is not a finite number` };
    return { ok: true, value: raw };
  }
  if (typeof raw !== 'string') {
    return { ok: false, message: `expected ${NOUN[kind]}${rate ? ' per second' : ''} such as ${rate ? `${EXAMPLE[kind]}/s` : EXAMPLE[kind]}, got ${raw === null ? 'null' : typeof raw}` };
  }
  const m = SPLIT_RE.exec(raw);
  if (!m) {
    return { ok: false, message: `${describe(raw)} is not ${NOUN[kind]}${rate ? ' rate' : ''}; write a number with one of: ${acceptedList(kind, rate)}` };
  }
  const numeral = m[1];
  let unit = m[2];
  let perFactor = 1; // rate: value per `unit`-time → per second
  if (rate && unit !== '') {
    const slash = unit.lastIndexOf('/');
    const per = slash >= 0 ? unit.slice(slash + 1) : '';
    if (slash < 0 || (per !== 's' && per !== 'min')) {
      return { ok: false, message: `${describe(raw)} is not ${NOUN[kind]} rate; write e.g. ${EXAMPLE[kind]}/s, accepted units: ${acceptedList(kind, true)}` };
    }
    perFactor = per === 'min' ? 1 / 60 : 1;
    unit = unit.slice(0, slash);
  }
  if (unit === '') {
    const v = Number(numeral);
    return { ok: true, value: v * perFactor };
  }
  const def = Object.prototype.hasOwnProperty.call(UNITS[kind], unit) ? UNITS[kind][unit] : undefined;
  if (!def) {
    let hint = '';
    const slip = Object.prototype.hasOwnProperty.call(SLIPS, unit) ? SLIPS[unit] : undefined;
    const other = otherKindOf(unit, kind);
    const near = closest(unit, unitsOf(kind));
    if (kind === 'temperature' && /^°?[FK]$/.test(unit)) hint = ' (temperatures are in °C; Fahrenheit and kelvin are not accepted)';
    else if (other) hint = ` (${unit} measures ${NOUN[other].replace(/^an? /, '')}, not ${NOUN[kind].replace(/^an? /, '')})`;
    else if (slip) hint = ` (did you mean "${slip}"?)`;
    else if (near) hint = ` (did you mean "${near}"?)`;
    return { ok: false, message: `${describe(raw)} has unknown unit "${unit}"${hint}; accepted units: ${acceptedList(kind, rate)}` };
  }
  let v = scaleDecimal(numeral, def.pow10) * def.factor;
  if (kind === 'memMiB') v = v / MiB;
  return { ok: true, value: v * perFactor };
}
