/**
 * One line of `edgegov doctor`: a check, its status, what was found and what to change.
 *
 *   ok    works as it will in `run`
 *   warn  `run` works, degraded (the detail says how)
 *   fail  blocks `run` (or leaves the governor blind): doctor exits 1
 *   info  a fact about the device, nothing to fix
 */
export type DoctorStatus = 'ok' | 'warn' | 'fail' | 'info';

export interface DoctorLine {
  /** Stable id (`reader`, `zone.<type>`, `psi.trigger`, …): tests and scripts key on it. */
  readonly id: string;
  readonly status: DoctorStatus;
  readonly detail: string;
  /** What to change, when something should be. */
  readonly fix?: string;
}

export function line(id: string, status: DoctorStatus, detail: string, fix?: string): DoctorLine {
  return fix ? { id, status, detail, fix } : { id, status, detail };
}
