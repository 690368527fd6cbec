// The soak's clients: `count` slots, each running sessions back to back through the real SDK —
// connect (hello + subscribe), a random number of advise / report / status requests at random
// gaps, then disconnect (close() destroys the socket mid-stream, no goodbye) and a random
// pause. What they count is part of the soak's figures.

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function startClients({ EdgegovClient, socketPath, count, rng = Math.random, maxSessionOps = 8, maxGapMs = 1200 }) {
  const counts = { sessions: 0, connectFailures: 0, decisions: 0, advises: 0, reports: 0, statuses: 0, leaseExpired: 0, requestErrors: 0, unexpectedDisconnects: 0 };
  const errorCodes = {};
  let running = true;
  let lastError;
  const live = new Set();

  const noteError = (e) => {
    const code = e?.code ?? 'exception';
    errorCodes[code] = (errorCodes[code] ?? 0) + 1;
    lastError = `${code}: ${e?.message ?? e}`;
  };

  const session = async (slot) => {
    const c = new EdgegovClient({ socketPath, clientName: `soak-${slot}`, reconnect: false, log: false, requestTimeoutMs: 10_000 });
    live.add(c);
    let closing = false;
    let decision;
    c.on('decision', (d, source) => {
      if (source === 'daemon') counts.decisions++;
      decision = d;
    });
    c.on('lease-expired', () => counts.leaseExpired++);
    c.on('disconnected', () => {
      if (!closing && running) counts.unexpectedDisconnects++;
    });
    try {
      await c.connect({ timeoutMs: 10_000 });
    } catch (e) {
      counts.connectFailures++;
      noteError(e);
      c.close();
      live.delete(c);
      return;
    }
    const ops = 1 + Math.floor(rng() * maxSessionOps);
    for (let i = 0; i < ops && running; i++) {
      await sleep(rng() * maxGapMs);
      if (!running) break;
      const r = rng();
      try {
        if (r < 0.5) {
          await c.advise({ promptTokens: Math.floor(rng() * 6000), expectedOutputTokens: Math.floor(rng() * 800), private: rng() < 0.3, ...(rng() < 0.5 ? { deadlineMs: 1000 + Math.floor(rng() * 60_000) } : {}) });
          counts.advises++;
        } else if (r < 0.9) {
          const applied = decision ? { tier: decision.tier, contextLength: decision.contextLength } : undefined;
          await c.report({ ...(applied ? { applied } : {}), tokS: 2 + rng() * 20, firstTokenMs: 100 + rng() * 2000, busyMs: rng() * 5000 });
          counts.reports++;
        } else {
          await c.status();
          counts.statuses++;
        }
      } catch (e) {
        if (!running) break;
        counts.requestErrors++;
        noteError(e);
      }
    }
    closing = true;
    c.close();
    live.delete(c);
    counts.sessions++;
  };

  const slots = [];
  for (let i = 0; i < count; i++) {
    slots.push((async () => {
      // Staggered start, so the daemon is not hit by `count` connects in one millisecond.
      await sleep(rng() * 2000);
      while (running) {
        await session(i);
        await sleep(rng() * 1000);
      }
    })());
  }

  return {
    counts,
    errorCodes,
    lastError: () => lastError,
    async stop() {
      running = false;
      for (const c of live) c.close();
      await Promise.all(slots);
    },
  };
}
