/**
 * The seeded request generator (research/03 §6.6): chat turns with log-normal prompt and
 * answer lengths, long-document prompts, think time, sessions and bursts. The sequence of
 * requests depends only on the scenario and seed — never on the controller — so every
 * controller faces the same user; a faster device simply gets further down the list.
 */
import type { Scenario } from './scenario.js';
import { createRng } from './rng.js';

export interface Request {
  index: number;
  kind: 'chat' | 'document';
  promptTokens: number;
  outputTokens: number;
  newSession: boolean;
  private: boolean;
  /** The user's pause after this answer before the next request. */
  thinkAfterS: number;
  /** Inside a burst the next request follows this answer's delivery, not the user's reading of it. */
  burstNext: boolean;
}

type Length = { median: number; p90: number } | { min: number; max: number };

export function createRequestStream(scenario: Scenario, seed: number): () => Request {
  const rng = createRng(seed, 1);
  const w = scenario.workload;
  const totalWeight = w.requests.reduce((s, r) => s + r.weight, 0);
  const draw = (l: Length) => Math.max(1, Math.round('median' in l ? rng.logNormal(l.median, l.p90) : rng.uniform(l.min, l.max)));
  let index = 0;
  let burstLeft = 0;
  let turnsLeft = 0;
  let sessionPrivate = false;
  return () => {
    let pick = rng.next() * totalWeight;
    let kind = w.requests[w.requests.length - 1];
    for (const r of w.requests) { if ((pick -= r.weight) < 0) { kind = r; break; } }
    const promptTokens = draw(kind.promptTokens);
    const outputTokens = draw(kind.outputTokens);
    let newSession = kind.newSession ?? false;
    if (turnsLeft <= 0) { newSession = true; }
    if (newSession) {
      // Geometric number of turns with the configured mean.
      const p = 1 / w.turnsPerSession;
      turnsLeft = 1 + Math.floor(Math.log(1 - rng.next()) / Math.log(1 - Math.min(0.999999, p)) || 0);
      // Privacy belongs to the conversation: a private chat's later turns carry its history.
      sessionPrivate = w.privateShare > 0 && rng.next() < w.privateShare;
    }
    turnsLeft--;
    let thinkAfterS = rng.exponential(w.thinkS);
    const b = w.bursts;
    const opens = b ? rng.next() < b.probability : false;
    let burstNext = false;
    if (burstLeft > 0) { burstLeft--; if (b) { thinkAfterS = b.gapS; burstNext = true; } }
    else if (b && opens) { burstLeft = Math.round(rng.uniform(b.size.min, b.size.max)) - 1; thinkAfterS = b.gapS; burstNext = true; }
    return { index: index++, kind: kind.kind, promptTokens, outputTokens, newSession, private: kind.private || sessionPrivate, thinkAfterS, burstNext };
  };
}
