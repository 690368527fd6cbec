export { Estimator, type SignalEstimate, type SignalSpecCompiled } from './estimator.js';
export { HEALTH_NAMES, healthName, type SensorHealth } from './health.js';
export { compileGlob } from './glob.js';
