/**
 * Loading node-llama-cpp the offline-clean way (research/06 §1): the prebuilt CPU backend
 * only (`build: 'never'` — never compile from source, which would try to download cmake),
 * no GPU probing, and an explicit thread budget (the default of 4 oversubscribes small
 * machines and slows decode several-fold, research/06 §5).
 */
import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp';

/** The options every edgegov process uses to load llama.cpp; tests assert them. */
export const LLAMA_LOAD_OPTIONS = {
  build: 'never',
  gpu: false,
  progressLogs: false,
  skipDownload: true,
} as const;

let shared: Promise<Llama> | undefined;
let sharedThreads = 0;

/**
 * One llama.cpp runtime per process (the native backend is a process-wide singleton anyway).
 * `maxThreads` is the budget all contexts share; it only ever grows here.
 */
export async function loadLlama(maxThreads: number, onLog?: (level: string, message: string) => void): Promise<Llama> {
  if (!shared) {
    sharedThreads = maxThreads;
    shared = getLlama({
      ...LLAMA_LOAD_OPTIONS,
      maxThreads,
      logLevel: LlamaLogLevel.error,
      logger: (level, message) => onLog?.(String(level), message),
    }).catch((err: unknown) => {
      shared = undefined;
      throw err;
    });
  }
  const llama = await shared;
  if (maxThreads > sharedThreads) {
    sharedThreads = maxThreads;
    llama.maxThreads = maxThreads;
  }
  return llama;
}
