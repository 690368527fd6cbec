/** Library entry: the pure core and the policy loader, for embedding and tests. */
export * from './core/severity.js';
export * from './core/signals.js';
export * from './core/decision.js';
export type * from './policy/types.js';
export { UserError, EnvError } from './util/errors.js';
