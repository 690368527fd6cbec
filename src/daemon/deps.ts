/**
 * The daemon's dependencies on the other parts of edgegov, as defaulted parameters of the
 * lifecycle class: tests inject fakes (an in-memory sensor source, a fixed policy), the
 * command line uses these real ones.
 */
import type { Observable, OperatorFunction } from 'rxjs';
import type { Decision } from '../core/decision.js';
import type { Sample } from '../core/signals.js';
import type { Policy } from '../policy/types.js';
import type { StepResult } from '../core/governor.js';
import { loadPolicyFile } from '../policy/load.js';
import { openSensors, type Discovery } from '../sensors/index.js';
import { createLiveSimulatedDevice } from '../sim/live.js';
import { createEngineLoadedDevice } from '../sim/engine-load.js';
import type { ReportRequest } from '../ipc/protocol.js';
import { governDecisions } from '../pipeline/govern.js';
import { absentSignals } from './host-coverage.js';

/** D's sensor snapshot (COMMON contract). */
export interface SensorSnapshot {
  t_ms?: number;
  signals: Record<string, number | undefined>;
  faults: { signal: string; reason: string }[];
}

/** The part of D's SensorSource the daemon uses. */
export interface SensorSourceLike {
  /** `native`, `fallback` or `mock`. */
  readonly binding?: string;
  read(): SensorSnapshot;
  /** Called on a memory-pressure (PSI trigger) event; returns an unsubscribe function. */
  onPressure(cb: () => void): () => void;
  close(): void | Promise<void>;
}

/** An open source plus the canonical signals the host has no sensor for. */
export interface OpenedSensors {
  source: SensorSourceLike;
  /** Canonical names, plus `zone.*` when the host has no thermal zone at all. */
  absent: Set<string>;
}

/** E's live simulated device (COMMON contract). */
export interface LiveSimulatedDeviceLike {
  readonly signals: string[];
  readonly device?: string;
  sampleAt(t_ms: number, decision?: Decision): Sample;
  /** A device loaded by the engine's own reports (the demo's) takes them here. */
  engineReport?(req: ReportRequest): void;
}

export interface DaemonDeps {
  loadPolicy(path: string): Promise<Policy>;
  openSensors(opts: { sysfsRoot: string; log: { warn(msg: string): void } }): Promise<OpenedSensors>;
  createSimDevice(opts: { device?: string; seed?: number; policy: Policy; scenario?: string; speed?: number }): LiveSimulatedDeviceLike;
  /** B's shared pipeline: samples → step results, the policy stream hot-swappable. */
  govern(policy$: Observable<Policy>): OperatorFunction<Sample, StepResult>;
}

export const defaultDeps: DaemonDeps = {
  loadPolicy: (path) => loadPolicyFile(path),
  async openSensors(opts) {
    const source = await openSensors({ sysfsRoot: opts.sysfsRoot, log: opts.log });
    return { source, absent: absentSignals(source.discovery as Discovery) };
  },
  createSimDevice: (opts) => (opts.scenario !== undefined
    ? createEngineLoadedDevice({ device: opts.device, scenario: opts.scenario, speed: opts.speed ?? 1, seed: opts.seed, policy: opts.policy })
    : createLiveSimulatedDevice(opts)),
  govern: (policy$) => governDecisions(policy$),
};
