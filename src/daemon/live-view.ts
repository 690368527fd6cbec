/**
 * The compact live view `npm start` shows on a terminal: signals, severity, tier, offload and
 * the last reason, redrawn in place a few times a second. Log lines are routed into the
 * view (the last few are shown under it) so they never tear the frame.
 */
import type { Daemon } from './daemon.js';

const ESC = '\x1b[';

export interface LiveView {
  /** A pino destination: log lines land in the view. */
  readonly logStream: { write(line: string): void };
  start(d: Daemon): void;
  stop(): void;
}

function fmt(v: number | undefined, digits = 1): string {
  return v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits);
}

export function createLiveView(out: NodeJS.WriteStream = process.stdout, refreshMs = 250): LiveView {
  const logLines: string[] = [];
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;
  let daemon: Daemon | undefined;

  const render = (): void => {
    const d = daemon;
    if (!d || !d.decision) return;
    const dec = d.decision;
    const s = d.lastSample ?? { t_ms: 0 };
    const sim = new Set(d.simulated);
    const mark = (name: string) => (sim.has(name) ? '*' : '');
    const width = Math.max(40, Math.min(out.columns || 100, 160));
    const lines: string[] = [];
    lines.push(`edgegov · ${d.policy.name} · ${d.deviceId} · ${fmt(1000 / d.periodMs, 0)} Hz · ${d.clientCount} clients · ${d.samples} samples`);
    lines.push(
      `soc ${fmt(s.soc_c)}°C${mark('soc_c')}  skin ${fmt(s.skin_c)}°C${mark('skin_c')}  ` +
      `battery ${fmt(s.battery_c)}°C${mark('battery_c')} ${fmt(s.battery_w, 2)} W${mark('battery_w')} ${fmt(s.battery_pct, 0)}%${mark('battery_pct')}` +
      `${s.charging === 1 ? ' charging' : s.charging === 0 ? ' on battery' : ''}`,
    );
    lines.push(`mem ${fmt(s.mem_avail_mb, 0)} of ${fmt(s.mem_total_mb, 0)} MiB free  psi ${fmt(s.psi_mem_some_avg10, 2)}%  tok/s ${fmt(s.tok_s)}`);
    lines.push(`severity ${dec.severity}  tier ${dec.tier}  offload ${dec.offload}${dec.safe ? '  SAFE TIER' : ''}`);
    lines.push(
      `knobs ${dec.quant} · ctx ${dec.contextLength} · batch ${dec.batchSize}` +
      `${dec.threads !== undefined ? ` · ${dec.threads} threads` : ''} · pacing ${dec.pacingMs} ms`,
    );
    lines.push(`why ${dec.reasons[0]?.message ?? '—'}`);
    if (sim.size) lines.push(`* simulated (this host has no sensor): ${[...sim].filter((x) => !x.startsWith('zone.')).join(', ')}`);
    for (const l of logLines) lines.push(`  ${l}`);
    const frame = lines.map((l) => (l.length > width ? l.slice(0, width - 1) + '…' : l));
    let text = '';
    if (drawn) text += `${ESC}${drawn}F`;
    text += `${ESC}J` + frame.join('\n') + '\n';
    out.write(text);
    drawn = frame.length;
  };

  return {
    logStream: {
      write(line: string) {
        try {
          const o = JSON.parse(line) as { level?: number; msg?: string; time?: string };
          const lvl = o.level !== undefined && o.level >= 50 ? 'ERROR' : o.level !== undefined && o.level >= 40 ? 'WARN' : 'info';
          logLines.push(`${(o.time ?? '').slice(11, 19)} ${lvl} ${o.msg ?? ''}`);
        } catch {
          logLines.push(line.trim());
        }
        while (logLines.length > 4) logLines.shift();
      },
    },
    start(d: Daemon) {
      daemon = d;
      out.write(`${ESC}?25l`);
      render();
      timer = setInterval(render, refreshMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      render();
      out.write(`${ESC}?25h`);
    },
  };
}
