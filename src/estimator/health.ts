/**
 * Sensor health per signal. Codes are small integers on the hot path; names in messages.
 *
 * - `ok`           a fresh, plausible reading.
 * - `missing`      no reading this sample (or never had one).
 * - `out-of-range` outside the sensor's plausible [min, max].
 * - `stuck`        no change over `stuckSamples` samples while other signals moved.
 * - `spike`        changed faster than `maxSlewPerS` since the last good reading.
 * - `failed`       missing / out-of-range / spike for longer than `holdMs`.
 *
 * While `missing`, `out-of-range` or `spike`, the last good value is held for at most `holdMs`.
 */
export const HEALTH_NAMES = ['ok', 'missing', 'out-of-range', 'stuck', 'spike', 'failed'] as const;
export type SensorHealth = (typeof HEALTH_NAMES)[number];

export const H_OK = 0;
export const H_MISSING = 1;
export const H_OUT_OF_RANGE = 2;
export const H_STUCK = 3;
export const H_SPIKE = 4;
export const H_FAILED = 5;

export function healthName(code: number): SensorHealth {
  return HEALTH_NAMES[code] ?? 'failed';
}
