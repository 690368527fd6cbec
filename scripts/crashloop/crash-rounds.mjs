// The daemon crash rounds: start `edgegov run` journalling every sample on a fixture tree whose
// temperature keeps moving, with SDK clients holding leases; SIGKILL it at a random moment;
// check the journal, the clients' fallback and (next round) their recovery.
import fs from 'node:fs';
import path from 'node:path';
import { checkSegment } from './journal-check.mjs';
import { ackRecorder, clientFleet } from './watchers.mjs';
import { copyFixture, repoRoot, sleep, startCli, waitFor } from './procs.mjs';

export const CRASH_POLICY = path.join(repoRoot, 'test/daemon/fixtures/test-policy.yaml');
/** Its lease (control.leaseTtl). */
export const CRASH_LEASE_MS = 1000;
/** Around the test policy's limits (light 70, moderate 80, severe 90, critical 100 °C). */
const TEMPS_C = [50, 75, 85, 95, 102];

/** The last `n` bytes of a file (fewer if it is shorter; none if it is absent). */
function tail(file, n) {
  if (!fs.existsSync(file)) return Buffer.alloc(0);
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const len = Math.min(n, size);
    const b = Buffer.alloc(len);
    fs.readSync(fd, b, 0, len, size - len);
    return b;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * @param {object} o
 * @param {number} o.rounds
 * @param {() => number} o.random  uniform [0, 1)
 * @param {() => number} o.heat    uniform [0, 1), the temperature steps' own stream
 * @param {string} o.dir           temp dir
 * @param {number} o.clients
 * @param {number} o.hz
 * @param {number} o.slackMs       scheduling allowance over the lease on a loaded machine
 * @param {(line: object) => void} o.emit
 * @param {typeof import('../../dist/ipc/client.js')} o.sdk
 */
export async function crashRounds(o) {
  const fx = copyFixture('sd8elite-dev', o.dir, /^(cpu|gpuss)-/);
  fx.setTempC(50);
  const socket = path.join(o.dir, 'crash.sock');
  const journal = path.join(o.dir, 'decisions.jsonl');
  const args = ['run', '--policy', CRASH_POLICY, '--sysfs-root', fx.root, '--socket', socket, '--metrics', 'off',
    '--simulate', 'none', '--hz', String(o.hz), '--journal', journal, '--journal-every-sample',
    // No rotation: the segment of each run stays in one file (rotation under kill -9 is test/daemon/ops.test.ts).
    '--journal-max-bytes', String(1024 ** 3), '--log-level', 'warn', '--live', 'false'];
  const fleet = clientFleet(o.sdk.EdgegovClient, socket, o.clients);
  const f = {
    rounds: 0, kills: 0, killsDuringStart: 0, killsDuringStartAfterFirstLine: 0, journalLinesChecked: 0, tornLines: 0, injectedTornTails: 0,
    lostAckedLines: 0, ackedLines: 0, ackedDecisions: 0, clients: o.clients, leaseMs: CRASH_LEASE_MS,
    fallbacks: 0, fallbackAfterKillMsMin: Infinity, fallbackAfterKillMsMax: 0, recoveries: 0, recoveryMsMax: 0,
    expiriesWhileLive: 0, violations: [],
  };
  const injected = [];
  /** Spawn → first answered status, per answering round. */
  const startMs = [];
  const heater = setInterval(() => fx.setTempC(TEMPS_C[Math.floor(o.heat() * TEMPS_C.length)]), 150);
  try {
    for (let r = 1; r <= o.rounds; r++) {
      const v = [];
      // In round 2 and one round in ten after, a power cut's torn tail first: a prefix of the
      // last line, no newline. (A tail torn earlier is still there when the daemon that should
      // have repaired it was killed before it opened the journal.)
      const endsTorn = () => { const t = tail(journal, 1); return t.length > 0 && t[0] !== 0x0a; };
      if ((r === 2 || (r > 2 && o.random() < 0.1)) && !endsTorn()) {
        const last = tail(journal, 64 * 1024).toString('utf8').slice(0, -1).split('\n').pop() ?? '';
        const frag = last.slice(0, 1 + Math.floor(o.random() * (last.length - 1)));
        fs.appendFileSync(journal, frag);
        injected.push(frag);
        f.injectedTornTails++;
      }
      const tornBefore = endsTorn();
      const offset = fs.existsSync(journal) ? fs.statSync(journal).size : 0;
      // In round 3 and one round in ten after, the kill lands while the daemon is still starting
      // (opening and repairing the journal, first sample).
      const duringStart = r === 3 || (r > 3 && o.random() < 0.1);
      const daemon = startCli(args);
      const spawnedAt = Date.now();
      fleet.daemonStarted();
      let rec;
      let readyAt;
      if (duringStart) {
        // Anywhere from the spawn to the moment the last daemon first answered: node's own start,
        // opening and repairing the journal, the first sample and its line.
        await sleep(Math.floor(o.random() * (startMs.at(-1) ?? 400)));
        f.killsDuringStart++;
      } else {
        try {
          readyAt = await waitFor('the daemon to answer', () => o.sdk.requestOnce(socket, { op: 'status' }, 1000).then(() => Date.now()), 30_000, 10);
        } catch (err) {
          v.push(`round ${r}: ${err.message}: ${daemon.stderr().slice(-500)}`);
        }
        if (readyAt) startMs.push(readyAt - spawnedAt);
        rec = ackRecorder(socket);
        // Live clients after a restart: each gets a live daemon decision (its reconnect backoff is ≤ 5 s ± 20 %).
        if (r > 1 && readyAt) {
          try {
            await waitFor('every client to return to live decisions', () => fleet.clients.every((s) => s.liveAt !== undefined && !s.c.leaseExpired), 10_000);
            for (const s of fleet.clients) {
              f.recoveries++;
              f.recoveryMsMax = Math.max(f.recoveryMsMax, s.liveAt - readyAt);
            }
          } catch {
            v.push(`round ${r}: clients without a live decision 10 s after the restart: ${fleet.clients.filter((s) => s.liveAt === undefined || s.c.leaseExpired).length} of ${fleet.clients.length}`);
          }
        } else if (readyAt) {
          await waitFor('the clients to connect', () => fleet.clients.every((s) => s.liveAt !== undefined), 15_000).catch(() => v.push(`round ${r}: clients did not connect`));
        }
        await sleep(150 + Math.floor(o.random() * 2350));
      }
      const killedAt = Date.now();
      const wasAnswering = readyAt !== undefined;
      fleet.daemonKilled();
      daemon.child.kill('SIGKILL');
      const how = await daemon.exited;
      f.kills++;
      if (how !== 'SIGKILL') v.push(`round ${r}: the daemon ended with ${how} before the kill: ${daemon.stderr().slice(-500)}`);
      if (rec) await Promise.race([rec.stopped, sleep(2000)]);
      rec?.close();

      // The journal: what this run appended.
      const segment = fs.existsSync(journal) ? tail(journal, fs.statSync(journal).size - offset).toString('utf8') : '';
      const acks = rec?.rec ?? { ackedDecisions: new Map(), ackedLines: 0 };
      const j = checkSegment(segment, { tornBefore, ackedLines: acks.ackedLines, ackedDecisions: acks.ackedDecisions });
      f.journalLinesChecked += j.lines;
      if (duringStart && j.lines > 0) f.killsDuringStartAfterFirstLine++;
      f.tornLines += j.torn.length;
      f.lostAckedLines += j.lost.length;
      f.ackedLines += acks.ackedLines;
      f.ackedDecisions += acks.ackedDecisions.size;
      v.push(...j.torn.map((t) => `round ${r}: torn: ${t}`), ...j.lost.map((l) => `round ${r}: lost: ${l}`));

      // The clients: each falls back to the safe tier within its lease of the kill.
      let fallbackMax;
      if (wasAnswering) {
        await waitFor('every client to fall back', () => fleet.clients.every((s) => s.expiredAt !== undefined), CRASH_LEASE_MS + o.slackMs + 2000).catch(() => {});
        for (const s of fleet.clients) {
          if (s.expiredAt === undefined) { v.push(`round ${r}: a client did not fall back to the safe tier`); continue; }
          const ms = s.expiredAt - killedAt;
          f.fallbacks++;
          f.fallbackAfterKillMsMin = Math.min(f.fallbackAfterKillMsMin, ms);
          f.fallbackAfterKillMsMax = Math.max(f.fallbackAfterKillMsMax, ms);
          fallbackMax = Math.max(fallbackMax ?? 0, ms);
          if (ms > CRASH_LEASE_MS + o.slackMs) v.push(`round ${r}: a client fell back ${ms} ms after the kill (lease ${CRASH_LEASE_MS} ms + ${o.slackMs} ms slack)`);
          if (s.c.decision?.safe !== true || s.c.decision?.tier !== s.c.safe?.tier) v.push(`round ${r}: a client's decision after the fallback is not the safe tier`);
        }
      }
      // A lease that lapsed while the daemon lived (it was starved past the lease): the client went
      // safe, the conservative side, so it is counted, not a violation.
      let expiriesWhileLive = 0;
      const whileLiveAfterStartMs = [];
      for (const s of fleet.clients) {
        expiriesWhileLive += s.expiriesWhileLive;
        whileLiveAfterStartMs.push(...s.whileLiveAfterStartMs);
        s.expiriesWhileLive = 0;
        s.whileLiveAfterStartMs = [];
      }
      f.expiriesWhileLive += expiriesWhileLive;
      f.rounds++;
      f.violations.push(...v);
      o.emit({
        round: r, killAfterMs: killedAt - spawnedAt, startMs: readyAt && readyAt - spawnedAt, duringStart, tornTailInjected: tornBefore, journalLines: j.lines,
        ackedLines: acks.ackedLines, ackedDecisions: acks.ackedDecisions.size, fallbackAfterKillMsMax: fallbackMax,
        expiriesWhileLive, whileLiveAfterStartMs: whileLiveAfterStartMs.length ? whileLiveAfterStartMs : undefined, violations: v.length,
      });
    }
  } finally {
    clearInterval(heater);
    fleet.close();
  }
  if (f.fallbackAfterKillMsMin === Infinity) f.fallbackAfterKillMsMin = undefined;
  const sorted = [...startMs].sort((a, b) => a - b);
  f.startMsP50 = sorted[Math.floor(sorted.length / 2)];
  f.startMsMax = sorted.at(-1);
  return { figures: f, journal, injected };
}
