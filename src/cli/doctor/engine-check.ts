/**
 * Whether the llama.cpp backend `serve`, `demo` and `calibrate` use would load here (the
 * prebuilt CPU binding of node-llama-cpp, loaded the offline way). The daemon itself never
 * loads it, so a failure degrades, never blocks.
 */
import { line, type DoctorLine } from './line.js';

export async function engineCheck(): Promise<DoctorLine> {
  try {
    const { loadLlama } = await import('../../engines/llama-cpp/runtime.js');
    const llama = await loadLlama(1);
    const release = (llama as unknown as { llamaCppRelease?: { release?: string } }).llamaCppRelease?.release;
    const detail = `llama.cpp via node-llama-cpp: ${llama.buildType} CPU backend loads${release ? ` (release ${release})` : ''}, ${llama.cpuMathCores} math core(s), GPU off`;
    await llama.dispose();
    return line('engine', 'ok', detail);
  } catch (err) {
    const msg = String((err as Error)?.message ?? err).split('\n')[0];
    return line('engine', 'warn', `llama.cpp backend does not load (${msg}): serve, demo and calibrate cannot run; the daemon does not need it`,
      `install the prebuilt binding for ${process.platform}-${process.arch} (@node-llama-cpp/${process.platform}-${process.arch}) with npm ci, or use another engine over the socket`);
  }
}
