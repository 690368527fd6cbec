// Runs under the arm64 Node (scripts/check-arm64.mjs): the llama.cpp engine adapter loads a
// synthetic GGUF through node-llama-cpp's arm64 backend and generates a few tokens. Prints one
// JSON line with the timings and the backend file actually mapped into the process.
//   argv: <staged package root> <models dir> <state dir> <tokens>
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const [stage, modelsDir, stateDir, tokensArg] = process.argv.slice(2);
const maxTokens = Number(tokensArg);
const { LlamaCppEngine } = await import(join(stage, 'dist/engines/llama-cpp/engine.js'));

const t0 = performance.now();
const engine = await LlamaCppEngine.open({ modelsDir, maxThreads: 1, stateDir });
await engine.apply({ tier: 'rich', quant: 'f16', contextLength: 256, batchSize: 64, threads: 1, pacingMs: 0 });
const loadMs = performance.now() - t0;
const r = await engine.generate({ messages: [{ role: 'user', content: 'hello' }], maxTokens, ignoreEos: true });
// Which llama.cpp binary is really loaded: qemu-user reports the guest's own mappings here.
const backend = readFileSync('/proc/self/maps', 'utf8').split('\n').map((l) => l.split(/\s+/)[5] ?? '').find((p) => p.endsWith('llama-addon.node'));
await engine.close();
console.log(JSON.stringify({
  arch: process.arch,
  backend: backend ? relative(stage, backend) : null,
  completionTokens: r.completionTokens,
  finishReason: r.finishReason,
  loadMs: Math.round(loadMs),
  generateMs: Math.round(r.totalMs),
  decodeTokS: r.decodeTokS,
}));
