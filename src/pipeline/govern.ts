/**
 * The rxjs operator shared by live operation and replay: Observable<Sample> →
 * Observable<StepResult>, one result per sample, through exactly `step`.
 *
 * Each subscription gets its own governor state (the state is mutable and owned by one
 * subscription; `defer` keeps two subscribers from sharing it).
 *
 * Hot reload: given an Observable<Policy>, the latest policy is used for each sample.
 * The controller state carries over (signal history, latched severities, decided tier,
 * dwell timers; see CoreState.reloaded in src/core/governor.ts). Samples that arrive
 * before the first policy are dropped — there is nothing to decide with. If the policy
 * stream completes, the last policy stays in force; if it errors, the output errors.
 */
import { Observable, defer, isObservable, map, type OperatorFunction } from 'rxjs';
import type { Policy } from '../policy/types.js';
import type { Sample } from '../core/signals.js';
import { initialState, step, type GovernorState, type StepResult } from '../core/governor.js';

export function governDecisions(policy: Policy | Observable<Policy>): OperatorFunction<Sample, StepResult> {
  if (!isObservable(policy)) {
    return (samples) =>
      defer(() => {
        let state: GovernorState = initialState(policy);
        return samples.pipe(
          map((sample) => {
            const r = step(state, sample, policy);
            state = r.state;
            return r;
          }),
        );
      });
  }
  const policies = policy;
  return (samples) =>
    new Observable<StepResult>((subscriber) => {
      let current: Policy | undefined;
      let state: GovernorState | undefined;
      // Policies first, so a synchronous policy source is in force before the first sample.
      const policySub = policies.subscribe({
        next: (p) => { current = p; },
        error: (err: unknown) => subscriber.error(err),
      });
      const sampleSub = samples.subscribe({
        next: (sample) => {
          if (current === undefined) return;
          const r = step(state ?? initialState(current), sample, current);
          state = r.state;
          subscriber.next(r);
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => {
        sampleSub.unsubscribe();
        policySub.unsubscribe();
      };
    });
}
