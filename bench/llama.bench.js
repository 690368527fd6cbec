// Real llama.cpp inference on synthetic models (1 thread): the calibration table per tier
// (decode / prefill tok/s, first-token time, RSS, switch cost per knob) and how fast a pause
// stops a long prompt. Small models keep it quick; the table goes to stderr, figures to stdout.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesizeModels } from '../dist/model/synth.js';
import { LlamaCppEngine } from '../dist/engines/llama-cpp/engine.js';
import { calibrate, formatCalibration, tiersFromModels } from '../dist/engines/calibrate.js';

export default async function (emit) {
  const dir = mkdtempSync(join(tmpdir(), 'edgegov-llama-bench-'));
  try {
    const t0 = performance.now();
    const { manifest } = await synthesizeModels({ outDir: dir, params: 20e6, quants: ['f16', 'q8_0', 'q4_0'], seed: 1, label: '20M' });
    emit({ name: 'llama.synth_20M_3quants_ms', value: +(performance.now() - t0).toFixed(0), unit: 'ms', params: manifest.params });

    const engine = await LlamaCppEngine.open({ modelsDir: dir, maxThreads: 2 });
    try {
      const table = await calibrate({
        engine, modelsDir: dir, tiers: tiersFromModels(dir, 1024, 256), threads: 1, promptTokens: 256, generatedTokens: 64,
      });
      process.stderr.write(`\nllama.cpp calibration, ${(manifest.params / 1e6).toFixed(1)} M-param synthetic model, 1 thread\n${formatCalibration(table)}\n`);
      const f16 = table.tiers.find((t) => t.quant === 'f16');
      for (const t of table.tiers) {
        emit({ name: `llama.${t.quant}.decode_tok_s`, value: +t.decodeTokS.toFixed(1), unit: 'tok/s', vs_f16: +(t.decodeTokS / f16.decodeTokS).toFixed(2) });
        emit({ name: `llama.${t.quant}.prefill_tok_s`, value: +t.prefillTokS.toFixed(1), unit: 'tok/s', vs_f16: +(t.prefillTokS / f16.prefillTokS).toFixed(2) });
        emit({ name: `llama.${t.quant}.first_token_ms`, value: +t.firstTokenMs.toFixed(1), unit: 'ms' });
        emit({ name: `llama.${t.quant}.rss_mib`, value: +(t.rssBytes / 1048576).toFixed(0), unit: 'MiB' });
      }
      for (const [knob, ms] of Object.entries(table.switchCostMs)) {
        emit({ name: `llama.switch.${knob}_ms`, value: +ms.toFixed(1), unit: 'ms' });
      }

      // Pause during a ~3 k-token prompt on the f16 tier: time from pause() to the request settling.
      await engine.apply({ tier: 'f16', quant: 'f16', contextLength: 4096, batchSize: 512, threads: 1, pacingMs: 0 });
      const stops = [];
      for (let i = 0; i < 3; i++) {
        const long = `run ${i}: ` + 'the governor watches skin temperature and battery draw '.repeat(55);
        const p = engine.generate({ messages: [{ role: 'user', content: long }], maxTokens: 8, ignoreEos: true });
        await new Promise((r) => setTimeout(r, 150));
        const ts = performance.now();
        engine.pause('bench');
        await p;
        stops.push(performance.now() - ts);
        engine.resume();
      }
      stops.sort((a, b) => a - b);
      emit({ name: 'llama.pause_mid_prompt_stop_ms', value: +stops[1].toFixed(1), unit: 'ms', max: +stops[2].toFixed(1), budget_ms: 100 });
    } finally {
      await engine.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
