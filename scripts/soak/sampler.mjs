// The soak's sampler: the daemon's resources read from outside (/proc/<pid>), and its heap and
// event-loop delay from its own /metrics (prom-client's default process metrics, which the
// daemon registers with the `edgegov_` prefix). Both once a second.
import fs from 'node:fs';
import http from 'node:http';

/**
 * VmRSS (bytes) and Threads from /proc/<pid>/status; open fds from /proc/<pid>/fd, also split
 * by what they point at: sockets, files under `treeRoot` (the sensor reader's), files deleted
 * since they were opened (a reader that never closes a vanished zone's file shows here).
 */
export function readProc(pid, treeRoot) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
  const threads = Number(/^Threads:\s+(\d+)/m.exec(status)?.[1]);
  const fds = fs.readdirSync(`/proc/${pid}/fd`);
  let socketFds = 0;
  let treeFds = 0;
  let deletedFds = 0;
  for (const fd of fds) {
    let target;
    try {
      target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed between readdir and readlink
    }
    if (target.startsWith('socket:')) socketFds++;
    else if (target.endsWith(' (deleted)')) deletedFds++;
    else if (treeRoot && target.startsWith(treeRoot)) treeFds++;
  }
  return { rssBytes: rssKb * 1024, threads, openFds: fds.length, socketFds, treeFds, deletedFds };
}

/** Values of un-labelled-or-first-labelled series in a Prometheus text exposition, by name. */
export function parseMetrics(text, names) {
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || !names.includes(m[1]) || m[1] in out) continue;
    out[m[1]] = Number(m[3]);
  }
  return out;
}

export const METRIC_NAMES = {
  heapUsed: 'edgegov_nodejs_heap_size_used_bytes',
  loopP99: 'edgegov_nodejs_eventloop_lag_p99_seconds',
  loopMax: 'edgegov_nodejs_eventloop_lag_max_seconds',
  decisions: 'edgegov_decisions_total',
  clients: 'edgegov_ipc_clients',
};

/** GET http://<hostPort>/metrics; resolves { text, ms } or rejects after `timeoutMs`. */
export function scrape(hostPort, timeoutMs = 5000) {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get(`http://${hostPort}/metrics`, { timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => (res.statusCode === 200 ? resolve({ text, ms: performance.now() - t0 }) : reject(new Error(`/metrics answered ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`/metrics did not answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
