/**
 * Which sensor reader `run` would load (native addon or TypeScript fallback) under the same
 * EDGEGOV_NATIVE rules as `selectBinding`, and what the fallback costs.
 */
import type { SensorBinding } from '../../native/binding-interface.js';
import { createFallbackBinding } from '../../native/fallback.js';
import { loadNativeAddon, selectBinding } from '../../native/native.js';
import { line, type DoctorLine } from './line.js';

const FALLBACK_COST = 'no kernel PSI triggers (polled instead) and no SO_PEERCRED check on socket peers (access rests on the socket\'s mode and group)';

export function readerCheck(env: NodeJS.ProcessEnv = process.env): { binding: SensorBinding; line: DoctorLine } {
  const mode = (env.EDGEGOV_NATIVE || 'auto').toLowerCase();
  let binding: SensorBinding;
  try {
    binding = selectBinding({ env, log: () => {} });
  } catch (err) {
    // EDGEGOV_NATIVE=required without an addon, or a mode typo: run would exit on it.
    return {
      binding: createFallbackBinding(),
      line: line('reader', 'fail', `${(err as Error).message}; the checks below use the fallback reader`,
        'build the addon on the board (npm ci, needs python3, make and g++) or ship prebuilds/; or unset EDGEGOV_NATIVE'),
    };
  }
  if (binding.name === 'native') return { binding, line: line('reader', 'ok', 'native addon loads (batched sysfs reads, kernel PSI triggers, SO_PEERCRED)') };
  const why = mode === 'off' || mode === '0' ? 'EDGEGOV_NATIVE=off asks for it' : `native addon unavailable: ${loadNativeAddon().why}`;
  return {
    binding,
    line: line('reader', 'warn', `TypeScript fallback reader (${why}): ${FALLBACK_COST}`,
      mode === 'off' || mode === '0' ? 'unset EDGEGOV_NATIVE' : 'build the addon on the board (npm ci, needs python3, make and g++) or ship prebuilds/<platform>-<arch>'),
  };
}
