// What watches the daemon during a crash loop: SDK clients holding leases (the code engines
// embed, src/ipc/client.ts) and one raw protocol connection that records what the daemon
// acknowledged (decision events and the `journal.lines` of status replies).
import net from 'node:net';

/**
 * `n` SDK clients that live across all rounds, reconnecting on their own (SDK defaults:
 * backoff 100 ms doubling to 5 s). For each, the time of its last lease expiry and of its
 * first live daemon decision since a mark.
 */
export function clientFleet(EdgegovClient, socketPath, n) {
  const clients = [];
  for (let i = 0; i < n; i++) {
    const c = new EdgegovClient({ socketPath, clientName: `crashloop-${i}`, log: false });
    const st = { c, expiredAt: undefined, liveAt: undefined, expiriesWhileLive: 0, daemonAlive: false, startedAt: 0, whileLiveAfterStartMs: [] };
    c.on('decision', (d, source) => {
      if (source === 'daemon' && !d.safe && st.liveAt === undefined) st.liveAt = Date.now();
    });
    c.on('lease-expired', () => {
      st.expiredAt ??= Date.now();
      if (st.daemonAlive) { st.expiriesWhileLive++; st.whileLiveAfterStartMs.push(Date.now() - st.startedAt); }
    });
    c.on('warning', () => {});
    // Reconnects in the background whatever the first attempt does.
    c.connect({ timeoutMs: 1 }).catch(() => {});
    clients.push(st);
  }
  return {
    clients,
    /** A daemon was started: from now on the next live decision counts as the recovery. */
    daemonStarted() { for (const s of clients) { s.liveAt = undefined; s.daemonAlive = true; s.startedAt = Date.now(); } },
    /** The daemon was killed: from now on the next lease expiry counts as the fallback. */
    daemonKilled() {
      // A client already on the safe tier at the kill (its lease lapsed while the daemon lived) is safe at once.
      for (const s of clients) { s.expiredAt = s.c.leaseExpired ? Date.now() : undefined; s.daemonAlive = false; }
    },
    close() { for (const s of clients) s.c.close(); },
  };
}

/**
 * One raw connection: subscribes, and asks `status` every `pollMs`. Records every decision
 * event's seq → tier and the highest `journal.lines` a reply acknowledged.
 */
export function ackRecorder(socketPath, pollMs = 25) {
  const rec = { ackedDecisions: new Map(), ackedLines: 0, replies: 0 };
  const s = net.connect(socketPath);
  let buf = '';
  let id = 0;
  let poll;
  s.on('connect', () => {
    s.write(JSON.stringify({ id: ++id, op: 'subscribe' }) + '\n');
    poll = setInterval(() => s.write(JSON.stringify({ id: ++id, op: 'status' }) + '\n'), pollMs);
  });
  s.on('data', (b) => {
    buf += b;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let m;
      try { m = JSON.parse(line); } catch { continue; }
      if (m.event === 'decision') rec.ackedDecisions.set(m.seq, m.decision.tier);
      else if (m.op === 'status' && m.ok) {
        rec.replies++;
        rec.ackedLines = Math.max(rec.ackedLines, m.status.journal?.lines ?? 0);
      }
    }
  });
  s.on('error', () => {});
  const stopped = new Promise((r) => s.on('close', () => { clearInterval(poll); r(); }));
  return { rec, stopped, close: () => s.destroy() };
}
