/**
 * Memory-pressure events for the daemon: real PSI triggers where the kernel accepts them,
 * with the retry policy of research 02 §8 cases 2-4:
 *  - EINVAL (window not a multiple of 2 s for an unprivileged writer on ≥ 6.4 — this includes
 *    root in a container — or < 500 ms before 6.4, or > 10 s) → retry with a 2 s window and the
 *    same stall fraction;
 *  - EBUSY (a second trigger on one fd) → retry once on a fresh fd;
 *  - EPERM/EACCES/EROFS/still EINVAL → poll `total=` in TypeScript instead;
 *  - a dead trigger (POLLERR: cgroup removed, psi disabled) → report, re-arm after a pause,
 *    and after repeated deaths poll instead. Never spin.
 */
import type { PressureTriggerSpec, PressureWatchHandle, SensorBinding } from '../native/binding-interface.js';
import { ERRNO, errnoName, triggerText } from '../native/binding-interface.js';
import { pollPressure, type PollTimers } from '../native/poll-pressure.js';

export interface SensorTimers extends PollTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realSensorTimers: SensorTimers = {
  now: () => Number(process.hrtime.bigint()) / 1e6,
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** lmkd's MEDIUM (`some` 150 ms/1 s) and a CRITICAL-ish `full` trigger (research 02 §1.3). */
export const DEFAULT_PSI_TRIGGERS: readonly Omit<PressureTriggerSpec, 'path'>[] = [
  { kind: 'some', stallUs: 150_000, windowUs: 1_000_000 },
  { kind: 'full', stallUs: 100_000, windowUs: 1_000_000 },
];

export interface PressureNotice {
  readonly kind: 'some' | 'full' | 'vmstat';
  readonly mechanism: 'kernel-trigger' | 'poll-total' | 'vmstat';
  /** CLOCK_MONOTONIC ms when the event was observed (the native thread's clock). */
  readonly monoMs: number;
  /** The trigger as armed, e.g. `some 300000 2000000`. */
  readonly trigger?: string;
}

export interface ArmedTrigger {
  readonly requested: string;
  readonly armed?: string;
  readonly mechanism: 'kernel-trigger' | 'poll-total' | 'none';
  /** Each refusal on the way, e.g. `some 150000 1000000: EINVAL`. */
  readonly refusals: string[];
  readonly deaths: number;
}

export interface PressureStatus {
  readonly path?: string;
  readonly triggers: ArmedTrigger[];
  readonly why?: string;
}

const TWO_S_US = 2_000_000;

/** The 2 s-window retry: same stall fraction, window 2 s (valid for unprivileged writers). */
export function twoSecondSpec(spec: PressureTriggerSpec): PressureTriggerSpec {
  const stallUs = Math.min(TWO_S_US, Math.max(1, Math.round((spec.stallUs * TWO_S_US) / spec.windowUs)));
  return { ...spec, stallUs, windowUs: TWO_S_US };
}

interface Slot {
  readonly base: PressureTriggerSpec;
  handle?: PressureWatchHandle;
  armed?: PressureTriggerSpec;
  mechanism: ArmedTrigger['mechanism'];
  refusals: string[];
  deaths: number;
  rearmTimer?: unknown;
}

export class PressureMonitor {
  private readonly slots: Slot[];
  private readonly subscribers = new Set<(n: PressureNotice) => void>();
  private started = false;
  private closed = false;

  constructor(
    private readonly binding: SensorBinding,
    private readonly path: string | undefined,
    specs: readonly Omit<PressureTriggerSpec, 'path'>[],
    private readonly timers: SensorTimers,
    private readonly onFault: (reason: string) => void,
    private readonly opts: { rearmMs?: number; maxDeaths?: number } = {},
  ) {
    this.slots = path ? specs.map((s) => ({ base: { ...s, path }, mechanism: 'none', refusals: [], deaths: 0 })) : [];
  }

  subscribe(cb: (n: PressureNotice) => void): () => void {
    this.subscribers.add(cb);
    if (!this.started && !this.closed) {
      this.started = true;
      for (const s of this.slots) this.arm(s);
    }
    return () => void this.subscribers.delete(cb);
  }

  /** Delivers a notice that did not come from a trigger (the vmstat estimate). */
  emit(n: PressureNotice): void {
    for (const cb of [...this.subscribers]) cb(n);
  }

  get hasSubscribers(): boolean {
    return this.subscribers.size > 0;
  }

  status(): PressureStatus {
    return {
      ...(this.path ? { path: this.path } : {}),
      triggers: this.slots.map((s) => ({
        requested: triggerText(s.base),
        ...(s.armed ? { armed: triggerText(s.armed) } : {}),
        mechanism: s.mechanism,
        refusals: [...s.refusals],
        deaths: s.deaths,
      })),
      ...(this.path ? {} : { why: 'PSI unavailable' }),
    };
  }

  close(): void {
    this.closed = true;
    for (const s of this.slots) {
      if (s.rearmTimer !== undefined) this.timers.clearTimeout(s.rearmTimer);
      s.handle?.close();
      s.handle = undefined;
    }
    this.subscribers.clear();
  }

  private arm(slot: Slot): void {
    if (this.closed) return;
    const onEvent = (spec: PressureTriggerSpec, mechanism: PressureNotice['mechanism']) => (ev: { type: 'fired' | 'gone'; monoMs: number }) => {
      if (this.closed) return;
      if (ev.type === 'fired') {
        this.emit({ kind: spec.kind, mechanism, monoMs: ev.monoMs, trigger: triggerText(spec) });
        return;
      }
      this.died(slot, spec);
    };
    const pollInstead = slot.deaths >= (this.opts.maxDeaths ?? 3);
    const tries: PressureTriggerSpec[] = [slot.base];
    if (!pollInstead) {
      for (let i = 0; i < tries.length && i < 4; i++) {
        const spec = tries[i]!;
        const r = this.binding.watchPressure(spec, onEvent(spec, 'kernel-trigger'));
        if (r.ok) {
          slot.handle = r.handle;
          slot.armed = spec;
          slot.mechanism = r.handle.mechanism;
          return;
        }
        slot.refusals.push(`${triggerText(spec)}: ${r.code}`);
        if (r.errno === ERRNO.EBUSY && i === 0) tries.push(spec);
        else if (r.errno === ERRNO.EINVAL && spec.windowUs !== TWO_S_US) tries.push(twoSecondSpec(spec));
      }
    }
    // The kernel refused (or kept killing) triggers: poll `total` at the 2 s-window rule.
    const spec = slot.base.windowUs % TWO_S_US === 0 ? slot.base : twoSecondSpec(slot.base);
    const r = pollPressure(spec, onEvent(spec, 'poll-total'), this.timers);
    if (r.ok) {
      slot.handle = r.handle;
      slot.armed = spec;
      slot.mechanism = 'poll-total';
      this.onFault(`PSI trigger ${triggerText(slot.base)} not armed (${slot.refusals.join('; ') || 'trigger died repeatedly'}); polling total= instead`);
    } else {
      slot.mechanism = 'none';
      this.onFault(`PSI ${slot.base.kind} unavailable: ${r.code}`);
    }
  }

  private died(slot: Slot, spec: PressureTriggerSpec): void {
    slot.deaths++;
    slot.handle?.close();
    slot.handle = undefined;
    slot.mechanism = 'none';
    this.onFault(`PSI trigger ${triggerText(spec)} died (POLLERR: cgroup removed or psi disabled); re-arming in ${this.opts.rearmMs ?? 5000} ms`);
    slot.rearmTimer = this.timers.setTimeout(() => {
      slot.rearmTimer = undefined;
      this.arm(slot);
    }, this.opts.rearmMs ?? 5000);
  }
}

export { errnoName };
