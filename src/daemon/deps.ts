/**
 * The daemon's dependencies on the other parts of edgegov, behind small structural types so
 * the lifecycle class takes them as defaulted parameters (tests inject fakes; the real ones
 * load lazily so a missing optional part degrades with a clear message, never a crash).
 */
import type { Decision } from '../core/decision.js';
import type { Sample } from '../core/signals.js';
import type { Policy } from '../policy/types.js';
import type { GovernorState, StepResult } from '../core/governor.js';

/** D's sensor snapshot (COMMON contract). */
export interface SensorSnapshot {
  t_ms?: number;
  signals: Record<string, number | undefined>;
  faults: { signal: string; reason: string }[];
}

/** D's sensor source (COMMON contract). */
export interface SensorSourceLike {
  readonly discovery: unknown;
  read(): SensorSnapshot;
  /** Called on a memory-pressure (PSI trigger) event; returns an unsubscribe function. */
  onPressure(cb: () => void): () => void;
  close(): void | Promise<void>;
}

export interface OpenSensorsOptions {
  sysfsRoot?: string;
  log?: unknown;
}

/** E's live simulated device (COMMON contract). */
export interface LiveSimulatedDeviceLike {
  readonly signals: string[];
  sampleAt(t_ms: number, decision?: Decision): Sample;
  /** Optional: a display name. */
  readonly name?: string;
}

/** The core, as a pair of functions: the daemon drives it sample by sample (see daemon.ts). */
export interface Governor {
  initialState(policy: Policy): GovernorState;
  step(state: GovernorState, sample: Sample, policy: Policy): StepResult;
}

export interface DaemonDeps {
  loadPolicy(path: string): Promise<Policy>;
  openSensors(opts: OpenSensorsOptions): Promise<SensorSourceLike>;
  createSimDevice(opts: { device?: string; seed?: number }): Promise<LiveSimulatedDeviceLike>;
  governor(): Promise<Governor>;
}

/** Lazily imports a sibling part of edgegov by path (kept out of the static graph on purpose). */
async function part<T>(rel: string): Promise<T> {
  return (await import(new URL(rel, import.meta.url).href)) as T;
}

export const defaultDeps: DaemonDeps = {
  async loadPolicy(path) {
    const m = await part<{ loadPolicyFile(p: string): Promise<Policy> }>('../policy/load.js');
    return m.loadPolicyFile(path);
  },
  async openSensors(opts) {
    const m = await part<{ openSensors(o: OpenSensorsOptions): Promise<SensorSourceLike> }>('../sensors/index.js');
    return m.openSensors(opts);
  },
  async createSimDevice(opts) {
    const m = await part<{ createLiveSimulatedDevice(o: { device?: string; seed?: number }): LiveSimulatedDeviceLike }>('../sim/live.js');
    return m.createLiveSimulatedDevice(opts);
  },
  async governor() {
    const m = await part<Governor>('../core/governor.js');
    return { initialState: m.initialState, step: m.step };
  },
};
