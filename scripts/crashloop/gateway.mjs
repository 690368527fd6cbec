// The gateway rounds: `edgegov serve` in front of the synthetic models (policies/synthetic.yaml),
// governed by `edgegov run`; the daemon is SIGKILLed while a streamed request is generating.
// The request must end cleanly — a complete stream (one finish_reason, then [DONE]) or a clean
// pause (finish_reason with `edgegov.paused`) — within a deadline; the gateway must fall back to
// the safe tier, keep serving while the daemon is dead, and follow the restarted daemon again.
import path from 'node:path';
import { copyFixture, repoRoot, sleep, startCli, waitFor } from './procs.mjs';

const POLICY = path.join(repoRoot, 'policies/synthetic.yaml');
export const GATEWAY_LEASE_MS = 3000; // policies/synthetic.yaml control.leaseTtl
const STREAM_DEADLINE_MS = 60_000;
// Cool → the tier the value model picks with headroom (mid, q8_0: within 1 % of f16's quality for
// fewer bytes, docs/core.md §6; ~0.5k+ tok/s here: the lease outlives the stream); hot (moderate,
// 78 °C) → the lean tier (20 ms pacing: the stream outlives the lease, so the safe tier arrives
// mid-generation).
const VARIANTS = [{ name: 'mid', tempC: 45, maxTokens: 1800 }, { name: 'lean', tempC: 80, maxTokens: 250 }];

/** Streams one chat request; resolves with how it ended. */
async function streamChat(url, maxTokens, onFirstToken) {
  const ac = new AbortController();
  const deadline = setTimeout(() => ac.abort(), STREAM_DEADLINE_MS);
  const out = { status: 0, chunks: 0, completionTokens: undefined, finishes: [], paused: false, done: false, error: undefined, hung: false };
  try {
    const r = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, signal: ac.signal,
      body: JSON.stringify({ messages: [{ role: 'user', content: 'crash loop' }], max_tokens: maxTokens, stream: true, stream_options: { include_usage: true }, edgegov: { ignore_eos: true } }),
    });
    out.status = r.status;
    let buf = '';
    const dec = new TextDecoder();
    for await (const chunk of r.body) {
      buf += dec.decode(chunk, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const data = buf.slice(0, i).replace(/^data: /, '');
        buf = buf.slice(i + 2);
        if (data === '[DONE]') { out.done = true; continue; }
        const ev = JSON.parse(data);
        if (ev.error) out.error = ev.error.message;
        const c = ev.choices?.[0];
        if (c?.delta?.content) { if (out.chunks++ === 0) onFirstToken(); }
        if (ev.usage) out.completionTokens = ev.usage.completion_tokens;
        if (c?.finish_reason) { out.finishes.push(c.finish_reason); out.paused ||= ev.edgegov?.paused === true; }
      }
    }
  } catch (err) {
    if (ac.signal.aborted) out.hung = true;
    else out.error = String(err?.message ?? err);
  } finally {
    clearTimeout(deadline);
  }
  return out;
}

async function serveStatus(url) {
  return (await fetch(`${url}/edgegov/status`)).json();
}

async function chatOk(url) {
  const r = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'still serving?' }], max_tokens: 4 }),
  });
  const j = await r.json();
  return r.status === 200 && typeof j.choices?.[0]?.message?.content === 'string';
}

/**
 * @param {{ rounds: number, random: () => number, dir: string, slackMs: number, emit: (l: object) => void,
 *           synth: typeof import('../../dist/model/synth.js'), sdk: typeof import('../../dist/ipc/client.js') }} o
 */
export async function gatewayRounds(o) {
  const f = { gatewayRounds: 0, outcomes: { finished: 0, paused: 0 }, safeTierMidGeneration: 0, leaseMs: GATEWAY_LEASE_MS, fallbackAfterKillMsMax: 0, recoveryMsMax: 0, violations: [] };
  if (o.rounds <= 0) return f;
  const models = path.join(o.dir, 'models');
  await o.synth.synthesizeModels({ outDir: models, params: 2e6, quants: ['f16', 'q8_0', 'q4_0'], seed: 13, label: '2M' });
  const fx = copyFixture('rpi5', o.dir, /^cpu-thermal$/);
  const socket = path.join(o.dir, 'gw.sock');
  const daemonArgs = ['run', '--policy', POLICY, '--sysfs-root', fx.root, '--socket', socket, '--metrics', 'off', '--log-level', 'warn', '--live', 'false'];
  const startDaemon = async () => {
    const d = startCli(daemonArgs);
    // Answering, not merely a socket file: the killed daemon leaves its stale socket behind.
    await waitFor('the gateway daemon', () => o.sdk.requestOnce(socket, { op: 'status' }, 1000).then(() => true), 30_000);
    return d;
  };
  fx.setTempC(VARIANTS[0].tempC);
  let daemon = await startDaemon();
  const serve = startCli(['serve', '--policy', POLICY, '--models', models, '--port', '0', '--socket', socket, '--max-threads', '1', '--log-level', 'warn']);
  try {
    const url = await waitFor('serve to listen', () => {
      if (serve.exitCode !== undefined) throw new Error(`serve exited: ${serve.stderr()}`);
      return /listening on (http:\/\/\S+)/.exec(serve.stdout())?.[1];
    }, 60_000);
    for (let r = 1; r <= o.rounds; r++) {
      const v = [];
      const variant = VARIANTS[(r - 1) % VARIANTS.length];
      fx.setTempC(variant.tempC);
      const st0 = await waitFor(`serve to follow the daemon at the ${variant.name} tier`, async () => {
        const s = await serveStatus(url);
        return s.decisionSource === 'daemon' && !s.daemon.leaseExpired && s.decision.tier === variant.name && s.engine.knobs?.tier === variant.name ? s : undefined;
      }, 60_000).catch((err) => { v.push(`gateway round ${r}: ${err.message}`); });
      let killedAt;
      let fellBack;
      const killDelayMs = 100 + Math.floor(o.random() * 700);
      const stream = await streamChat(url, variant.maxTokens, () => {
        setTimeout(() => {
          killedAt = Date.now();
          daemon.child.kill('SIGKILL');
          // Watched while the request still streams: the gateway falls back to the safe tier within its lease.
          fellBack = waitFor('the gateway to fall back to the safe tier', async () => {
            const s = await serveStatus(url);
            return s.daemon.leaseExpired && s.decision.safe === true ? Date.now() : undefined;
          }, GATEWAY_LEASE_MS + o.slackMs + 5000, 50);
        }, killDelayMs);
      });
      const streamEndedAt = Date.now();
      await daemon.exited;
      let outcome;
      if (stream.hung) outcome = 'hang';
      else if (stream.status === 200 && stream.done && stream.finishes.length === 1 && !stream.error) {
        // Finished means complete: every token asked for (ignore_eos), or the model's own stop.
        const complete = stream.finishes[0] === 'stop' || stream.completionTokens === variant.maxTokens;
        outcome = stream.paused ? 'paused' : complete ? 'finished' : 'cut';
      }
      else outcome = 'broken';
      if (outcome === 'finished' || outcome === 'paused') f.outcomes[outcome]++;
      else v.push(`gateway round ${r}: the running request ended ${outcome}: ${JSON.stringify(stream)}`);
      if (killedAt === undefined || killedAt > streamEndedAt) v.push(`gateway round ${r}: the kill did not land mid-generation (${stream.chunks} chunks streamed)`);
      // The gateway falls back to the safe tier within its lease, and keeps serving.
      let fallbackMs;
      await (fellBack ?? Promise.reject(new Error('no kill'))).then((t) => { fallbackMs = t - killedAt; }, (err) => v.push(`gateway round ${r}: ${err.message}`));
      if (fallbackMs !== undefined) {
        f.fallbackAfterKillMsMax = Math.max(f.fallbackAfterKillMsMax, fallbackMs);
        // The lease lapsed while the request was still streaming: the safe tier arrived mid-generation.
        if (killedAt + fallbackMs < streamEndedAt) f.safeTierMidGeneration++;
        if (fallbackMs > GATEWAY_LEASE_MS + o.slackMs) v.push(`gateway round ${r}: fell back ${fallbackMs} ms after the kill (lease ${GATEWAY_LEASE_MS} ms)`);
      }
      if (!(await chatOk(url).catch(() => false))) v.push(`gateway round ${r}: no answer while the daemon is dead`);
      daemon = await startDaemon();
      const restartedAt = Date.now();
      await waitFor('the gateway to follow the restarted daemon', async () => {
        const s = await serveStatus(url);
        return s.decisionSource === 'daemon' && !s.daemon.leaseExpired && s.decision.safe === false ? s : undefined;
      }, 20_000).then(() => { f.recoveryMsMax = Math.max(f.recoveryMsMax, Date.now() - restartedAt); }, (err) => v.push(`gateway round ${r}: ${err.message}`));
      if (!(await chatOk(url).catch(() => false))) v.push(`gateway round ${r}: no answer after the restart`);
      f.gatewayRounds++;
      f.violations.push(...v);
      o.emit({ gatewayRound: r, tier: st0?.decision?.tier, outcome, completionTokens: stream.completionTokens, finish: stream.finishes[0], streamMsAfterKill: killedAt ? streamEndedAt - killedAt : undefined, fallbackAfterKillMs: fallbackMs, violations: v.length });
    }
  } finally {
    serve.child.kill('SIGTERM');
    daemon.child.kill('SIGKILL');
    await Promise.race([serve.exited, sleep(5000)]);
  }
  return f;
}
