/**
 * Signals a device does not have at all, and the policy as it applies to such a device.
 *
 * A signal that is not on the device is not a fault: there is nothing to fail. A phone with no
 * skin thermistor, a board with no battery, a recording that never captured MemAvailable — the
 * policy's sensors and limits for those signals simply do not apply there. A signal that IS on
 * the device and has no value (a column with empty cells, a sensor that stops answering) stays
 * a fault and its `onFault` consequence applies: missing is never cool.
 *
 * Replay learns absence from the trace's columns (and a `# signals:` header comment,
 * docs/traces.md); the core learns it through `Policy.absentSignals` on the policy built here,
 * so nothing downstream of the policy knows where absence came from.
 */
import type { Policy, SensorSpec } from '../policy/types.js';
import { compileGlob, zoneTypeOf } from '../estimator/glob.js';
import { RULE_SIGNALS } from '../estimator/estimator.js';

/** True when a virtual sensor can be built from the zones present (or is present itself). */
function virtualCarried(spec: SensorSpec, carried: ReadonlySet<string>, zoneTypes: readonly string[]): boolean {
  if (carried.has(spec.name)) return true;
  const src = spec.source!;
  const matchesSome = (pattern: string): boolean => {
    const re = compileGlob(pattern);
    return zoneTypes.some((z) => re.test(z));
  };
  // A weighted sum needs every term; a max/min/avg is defined from any one zone.
  return src.kind === 'weighted' ? src.terms.every((t) => matchesSome(t.zone)) : src.zones.some(matchesSome);
}

/**
 * The signals `policy` reads that a source carrying `carried` (signal names and `zone.<type>`
 * keys) never has, in policy order: declared sensors first, then limit-only and rule signals.
 */
export function signalsNotCarried(policy: Policy, carried: Iterable<string>): string[] {
  const have = new Set(carried);
  const zoneTypes: string[] = [];
  for (const k of have) {
    const z = zoneTypeOf(k);
    if (z !== undefined) zoneTypes.push(z);
  }
  const out: string[] = [];
  const seen = new Set<string>();
  const consider = (name: string, isCarried: boolean): void => {
    if (seen.has(name)) return;
    seen.add(name);
    if (!isCarried) out.push(name);
  };
  for (const s of policy.sensors) consider(s.name, s.source ? virtualCarried(s, have, zoneTypes) : have.has(s.name));
  for (const l of policy.limits) consider(l.signal, have.has(l.signal));
  for (const name of RULE_SIGNALS) consider(name, have.has(name));
  return out;
}

/**
 * `policy` for a device without `absent`: their sensors and limits left out, fallbacks naming
 * them dropped, and `absentSignals` set (so a missing MemAvailable there does not cap the tier).
 * The same policy object when nothing is absent (compiled policies are cached per object).
 */
export function policyOnDevice(policy: Policy, absent: readonly string[]): Policy {
  if (absent.length === 0) return policy;
  const gone = new Set(absent);
  const sensors = policy.sensors
    .filter((s) => !gone.has(s.name))
    .map((s) => (s.fallback !== undefined && gone.has(s.fallback) ? { ...s, fallback: undefined } : s));
  return {
    ...policy,
    sensors,
    limits: policy.limits.filter((l) => !gone.has(l.signal)),
    absentSignals: [...new Set([...(policy.absentSignals ?? []), ...absent])],
  };
}
