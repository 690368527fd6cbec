/**
 * Whether `run --metrics host:port` could bind: a taken port makes `run` exit 2.
 * Binds and closes at once, so it tells the truth for this user (a port < 1024 needs privilege).
 */
import net from 'node:net';
import { parseHostPort } from '../../telemetry/host-port.js';
import { line, type DoctorLine } from './line.js';

export async function metricsCheck(spec: string): Promise<DoctorLine> {
  if (spec === 'off' || spec === '') return line('metrics', 'info', 'metrics off (--metrics off): no /metrics, /healthz or /readyz');
  const hp = parseHostPort(spec);
  if (!hp) return line('metrics', 'fail', `--metrics ${spec}: not host:port`, 'give host:port, e.g. 127.0.0.1:9464, or off');
  const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    const s = net.createServer();
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e));
    s.listen({ host: hp.host, port: hp.port, exclusive: true }, () => s.close(() => resolve(undefined)));
  });
  if (!err) return line('metrics', 'ok', `${spec} is free${hp.port === 0 ? ' (port 0: the kernel picks one; status shows it)' : ''}`);
  const why =
    err.code === 'EADDRINUSE' ? 'the port is taken (run would exit 2)' :
    err.code === 'EACCES' ? 'permission denied (ports below 1024 need privilege)' :
    err.code === 'EADDRNOTAVAIL' ? `${hp.host} is not an address of this machine` :
    err.message;
  return line('metrics', 'fail', `${spec}: ${why}`, `pick a free port with --metrics (ss -ltnp shows who holds ${hp.port}), or --metrics off`);
}
