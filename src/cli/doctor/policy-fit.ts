/**
 * Which shipped device-class policy fits a device, from its zone types: each policy's sensors
 * name the zones they read by type glob (`bigcore*-thermal`, `cpu-*`), so the policy whose
 * patterns cover the device's zones — exact names first, then by count, then whether it
 * expects a battery the device has — is the one written for this SoC. A tie or no match
 * falls back to policies/default.yaml, and the line says so.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { compileGlob, zonePatternBody } from '../../estimator/glob.js';
import type { Policy, SensorSpec } from '../../policy/types.js';

export const SHIPPED_POLICY_DIR = fileURLToPath(new URL('../../../policies/', import.meta.url));
/** Device classes doctor chooses between; `default` is the fallback, `synthetic` a demo model. */
export const DEVICE_CLASS_POLICIES = ['flagship-phone', 'midrange-phone', 'rk3588', 'rpi5'] as const;
export const FALLBACK_POLICY = 'default';

export const shippedPolicyPath = (name: string) => join(SHIPPED_POLICY_DIR, `${name}.yaml`);

export interface DeviceZones {
  /** Types of the temperature zones discovery found (not-a-temperature zones left out). */
  readonly types: readonly string[];
  readonly hasBattery: boolean;
  /** Signals with a reading now (canonical names and `zone.<type>`). */
  readonly signals: Readonly<Record<string, number | undefined>>;
}

export interface PolicyFit {
  readonly name: string;
  readonly file: string;
  /** Zone types some sensor pattern of the policy matches. */
  readonly matched: string[];
  /** Of those, the ones matched by a pattern without wildcards (a name only that SoC uses). */
  readonly exact: string[];
  readonly wantsBattery: boolean;
  readonly batteryFit: boolean;
  /** Critical sensors that would have no reading on this device. */
  readonly missingCritical: string[];
}

function patternsOf(s: SensorSpec): string[] {
  const src = s.source;
  if (!src) return [];
  return src.kind === 'weighted' ? src.terms.map((t) => t.zone) : [...src.zones];
}

const isLiteral = (p: string) => !/[*?]/.test(zonePatternBody(p));

/** Whether the sensor would read something here: its zones, or a reading under its own name. */
function resolvable(s: SensorSpec, d: DeviceZones): boolean {
  const direct = d.signals[s.name] !== undefined;
  if (!s.source) return direct;
  const globs = patternsOf(s).map(compileGlob);
  const hit = (g: RegExp) => d.types.some((t) => g.test(t));
  const fromZones = s.source.kind === 'weighted' ? globs.every(hit) : globs.some(hit);
  return fromZones || direct;
}

export function fitOf(policy: Policy, file: string, d: DeviceZones): PolicyFit {
  const matched = new Set<string>();
  const exact = new Set<string>();
  for (const s of policy.sensors) {
    for (const p of patternsOf(s)) {
      const g = compileGlob(p);
      for (const t of d.types) {
        if (!g.test(t)) continue;
        matched.add(t);
        if (isLiteral(p)) exact.add(t);
      }
    }
  }
  const wantsBattery = policy.sensors.some((s) => s.name === 'battery_w' || s.name === 'battery_pct');
  const missingCritical = policy.sensors.filter((s) => s.critical && !resolvable(s, d)).map((s) => s.name);
  return { name: policy.name, file, matched: [...matched], exact: [...exact], wantsBattery, batteryFit: wantsBattery === d.hasBattery, missingCritical };
}

const score = (f: PolicyFit) => [f.exact.length, f.matched.length, f.batteryFit ? 1 : 0] as const;

function compare(a: PolicyFit, b: PolicyFit): number {
  const [x, y] = [score(a), score(b)];
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return y[i]! - x[i]!;
  return 0;
}

export interface PolicyChoice {
  readonly chosen: PolicyFit;
  /** Device-class fits, best first. */
  readonly ranked: PolicyFit[];
  /** Why: the deciding numbers, in a sentence. */
  readonly why: string;
  /** True when a device-class policy won outright (not the fallback). */
  readonly clear: boolean;
}

const list = (xs: readonly string[], n = 4) => `${xs.slice(0, n).join(', ')}${xs.length > n ? ', …' : ''}`;

function summary(f: PolicyFit, total: number): string {
  return `${f.name} matches ${f.matched.length} of ${total} zone(s)${f.exact.length ? ` (${f.exact.length} by exact name: ${list(f.exact)})` : f.matched.length ? ` (${list(f.matched)})` : ''}${f.batteryFit ? '' : f.wantsBattery ? ', expects a battery this device lacks' : ', ignores the battery this device has'}`;
}

export function choosePolicy(classes: PolicyFit[], fallback: PolicyFit, d: DeviceZones): PolicyChoice {
  const ranked = [...classes].sort(compare);
  const [best, next] = ranked;
  const total = d.types.length;
  if (!best || best.matched.length === 0) {
    return {
      chosen: fallback, ranked, clear: false,
      why: `no device-class policy's zone patterns match ${total ? `these zones (${list(d.types)})` : 'any zone (there are none)'}; ${fallback.name} names generic patterns${fallback.matched.length ? ` and matches ${fallback.matched.length}` : ' and matches none either: its soc_c then comes from edgegov\'s own CPU/GPU/SoC classification'}`,
    };
  }
  if (next && compare(best, next) === 0) {
    return {
      chosen: fallback, ranked, clear: false,
      why: `ambiguous: ${summary(best, total)}; ${summary(next, total)}; ${fallback.name} chosen until you pick one by RAM and cooling`,
    };
  }
  return {
    chosen: best, ranked, clear: true,
    why: `${summary(best, total)}${next ? `; next best ${summary(next, total)}` : ''}`,
  };
}
