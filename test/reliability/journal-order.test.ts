/**
 * Regression (found writing the crash loop, issue 13 item 4): the daemon published a changed
 * decision to its clients and only then appended it to the journal, so a kill -9 between the
 * two writes left clients acting on a decision the journal never recorded. A decision a client
 * has been told is acknowledged: it must be in the journal before the send.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { Daemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { EdgegovClient } from '../../src/ipc/client.js';
import type { SensorSourceLike } from '../../src/daemon/deps.js';
import { testPolicyPath, tmpDir, until } from '../daemon/helpers.js';

describe('the daemon journals a decision before it publishes it', () => {
  const dir = tmpDir('jorder');
  const journal = path.join(dir, 'decisions.jsonl');
  const state = { socC: 50 };
  let fire: (() => void) | undefined;
  const source: SensorSourceLike = {
    binding: 'mock',
    read: () => ({ signals: { 'zone.cpu-0-0-0': state.socC, mem_avail_mb: 12_000, mem_total_mb: 16_000 }, faults: [] }),
    onPressure: (cb) => { fire = cb; return () => { fire = undefined; }; },
    close: () => {},
  };
  const daemon = new Daemon({
    logger: silentLogger(),
    config: { policyPath: testPolicyPath, sysfsRoot: '/', socketPath: path.join(dir, 'j.sock'), hz: 0.2, simulate: 'none', journal },
    deps: { openSensors: async () => ({ source, absent: new Set<string>() }) },
    notifier: { enabled: false, send: async () => {}, startWatchdog() {}, stop() {} },
  });
  let client: EdgegovClient | undefined;
  afterAll(async () => {
    client?.close();
    await daemon.stop('test end');
  });

  it('every changed decision is in the journal file at the moment it is sent (changes and the stop)', async () => {
    await daemon.start();
    client = new EdgegovClient({ socketPath: path.join(dir, 'j.sock'), log: false });
    await client.connect();
    // What the file holds when publish() is called: a kill -9 right after the send leaves exactly that.
    const ipc = (daemon as unknown as { ipc: { publish(ev: { event: string; seq?: number; changed?: boolean }): void } }).ipc;
    const publish = ipc.publish.bind(ipc);
    const atSend: { seq: number; inJournal: boolean }[] = [];
    ipc.publish = (ev) => {
      if (ev.event === 'decision' && ev.changed) {
        const seqs = fs.readFileSync(journal, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).seq as number);
        atSend.push({ seq: ev.seq!, inJournal: seqs.includes(ev.seq!) });
      }
      publish(ev);
    };
    for (const c of [95, 105]) {
      state.socC = c;
      fire!();
    }
    await until(() => client!.decision?.offload === 'cloud', 3000, 'the escalations at the client');
    await daemon.stop('test');
    expect(atSend.length).toBe(3); // two escalations and the safe tier at stop
    expect(atSend).toEqual(atSend.map((a) => ({ seq: a.seq, inJournal: true })));
  });
});
