/**
 * The `policy` doctor line: the shipped device-class policy that fits this device (or how
 * well `--policy <file>` fits it), and which of its critical sensors would have no reading.
 */
import { loadPolicyFile } from '../../policy/load.js';
import type { Policy } from '../../policy/types.js';
import { UserError } from '../../util/errors.js';
import { line, type DoctorLine } from './line.js';
import {
  choosePolicy,
  DEVICE_CLASS_POLICIES,
  FALLBACK_POLICY,
  fitOf,
  shippedPolicyPath,
  type DeviceZones,
  type PolicyChoice,
  type PolicyFit,
} from './policy-fit.js';

export interface PolicyReport {
  readonly line: DoctorLine;
  readonly choice?: PolicyChoice;
  /** The policy `run` should be given: `--policy` when it loads, else the suggestion. */
  readonly suggested?: string;
}

function missingText(f: PolicyFit): string {
  return f.missingCritical.length
    ? `; critical sensor(s) ${f.missingCritical.join(', ')} would have no reading: run takes them from the simulated device (--simulate auto, the default) or holds the safe tier (--simulate none)`
    : '';
}

const MISSING_FIX = 'give those sensors a source this device has (a virtual sensor over its zones, docs/policy.md) or drop critical: from them';

async function loadAll(d: DeviceZones): Promise<{ classes: PolicyFit[]; fallback: PolicyFit }> {
  const load = async (name: string) => {
    const file = shippedPolicyPath(name);
    return fitOf(await loadPolicyFile(file), file, d);
  };
  return { classes: await Promise.all(DEVICE_CLASS_POLICIES.map(load)), fallback: await load(FALLBACK_POLICY) };
}

export async function policyCheck(d: DeviceZones, given?: string): Promise<PolicyReport> {
  const { classes, fallback } = await loadAll(d);
  const choice = choosePolicy(classes, fallback, d);
  const best = choice.chosen;
  if (given === undefined) {
    const status = !choice.clear || best.missingCritical.length ? 'warn' : 'ok';
    const fix = best.missingCritical.length ? MISSING_FIX : choice.clear ? undefined : `start from ${best.file}, name this device's zones in sensors.soc_c.from, and pass it with --policy`;
    return {
      line: line('policy', status, `suggest ${best.file}: ${choice.why}${missingText(best)}`, fix),
      choice,
      suggested: best.file,
    };
  }
  let policy: Policy;
  try {
    policy = await loadPolicyFile(given);
  } catch (err) {
    const detail = err instanceof UserError ? `${err.message}: ${err.details[0] ?? ''}` : (err as Error).message;
    return { line: line('policy', 'fail', `--policy ${detail}; run would exit on it`, `edgegov validate ${given} lists every problem`), choice };
  }
  const fit = fitOf(policy, given, d);
  const other = choice.clear && choice.chosen.name !== policy.name ? `; the shipped ${choice.chosen.name} fits better (${choice.why})` : '';
  const detail = `${given} (${policy.name}): its zone patterns match ${fit.matched.length} of ${d.types.length} zone(s)${fit.matched.length ? ` (${fit.matched.slice(0, 4).join(', ')}${fit.matched.length > 4 ? ', …' : ''})` : ''}${other}${missingText(fit)}`;
  const status = fit.missingCritical.length || other ? 'warn' : 'ok';
  return {
    line: line('policy', status, detail, fit.missingCritical.length ? MISSING_FIX : other ? `consider --policy ${choice.chosen.file}` : undefined),
    choice,
    suggested: given,
  };
}
