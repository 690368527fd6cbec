/**
 * Android's thermal severity ladder (android.os.PowerManager THERMAL_STATUS_*),
 * used for every signal, not only temperatures. Index order = danger order.
 */
export const SEVERITIES = ['none', 'light', 'moderate', 'severe', 'critical', 'emergency', 'shutdown'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** The severities that can carry a threshold (`none` is the absence of one). */
export const THRESHOLD_SEVERITIES = SEVERITIES.slice(1) as readonly Exclude<Severity, 'none'>[];

export function severityIndex(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export function worseSeverity(a: Severity, b: Severity): Severity {
  return severityIndex(a) >= severityIndex(b) ? a : b;
}
