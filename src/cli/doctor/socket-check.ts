/**
 * The protocol socket `run` would create: does its directory exist and let this user create
 * a socket, is the path free (a live daemon there makes `run` refuse), and which group the
 * 0660 socket file will carry — the group whose members can connect (docs/protocol.md).
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { line, type DoctorLine } from './line.js';

/** sockaddr_un.sun_path is 108 bytes including the NUL. */
const MAX_SOCKET_PATH_BYTES = 107;

export interface SocketCheckOptions {
  socketPath: string;
  /** True when Android init hands the listening fd over ($ANDROID_SOCKET_edgegov). */
  inheritedFd?: boolean;
  /** The group that should be able to connect (`--socket-group`), as a gid. */
  intendedGid?: number;
  intendedGroupText?: string;
  groupFile?: string;
  egid?: number;
  euid?: number;
}

export function groupName(gid: number, groupFile = '/etc/group'): string {
  try {
    for (const l of fs.readFileSync(groupFile, 'utf8').split('\n')) {
      const [name, , id] = l.split(':');
      if (id !== undefined && Number(id) === gid && name) return `${name} (${gid})`;
    }
  } catch {
    /* no group file (Android): the number alone */
  }
  return `gid ${gid}`;
}

function answers(socketPath: string, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(socketPath);
    const done = (v: boolean) => {
      c.destroy();
      resolve(v);
    };
    c.setTimeout(timeoutMs, () => done(true)); // accepted but silent: something lives there
    c.once('connect', () => done(true));
    c.once('error', () => done(false));
  });
}

export async function socketCheck(o: SocketCheckOptions): Promise<DoctorLine> {
  const p = o.socketPath;
  if (o.inheritedFd) return line('socket', 'ok', `Android init passes the listening socket ($ANDROID_SOCKET_edgegov, ${p}); its mode and group come from the .rc socket line`);
  if (Buffer.byteLength(p) > MAX_SOCKET_PATH_BYTES) {
    return line('socket', 'fail', `${p}: ${Buffer.byteLength(p)} bytes, longer than the ${MAX_SOCKET_PATH_BYTES} a Unix socket path may have`, 'use a shorter --socket path (e.g. /run/edgegov/edgegov.sock)');
  }
  const dir = path.dirname(path.resolve(p));
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    return line('socket', 'fail', `${p}: directory ${dir} does not exist`, `create it (systemd: RuntimeDirectory=edgegov; by hand: install -d -m 0750 -g <group> ${dir})`);
  }
  if (!st.isDirectory()) return line('socket', 'fail', `${p}: ${dir} is not a directory`, 'pick another --socket');
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch {
    return line('socket', 'fail', `${p}: directory ${dir} is not writable by uid ${o.euid ?? process.geteuid?.()}`,
      `run as the directory's owner, or chown it to the daemon's user (systemd: RuntimeDirectory= does this)`);
  }
  let existing = '';
  try {
    const lst = fs.lstatSync(p);
    if (!lst.isSocket()) return line('socket', 'fail', `${p} exists and is not a socket: run refuses to replace it`, 'remove it or pick another --socket');
    if (await answers(p)) return line('socket', 'fail', `${p}: a daemon already answers there, so run would refuse to start`, `stop it (edgegov status --socket ${p} says which) or pick another --socket`);
    existing = '; a stale socket file from a stopped daemon is there (run takes it over)';
  } catch {
    /* absent: run creates it */
  }
  // A new file takes the creator's egid, or the directory's group when the directory is setgid.
  const setgid = (st.mode & 0o2000) !== 0;
  const gid = setgid ? st.gid : (o.egid ?? process.getegid?.() ?? st.gid);
  const groupText = groupName(gid, o.groupFile);
  const reach = (st.mode & 0o010) !== 0 ? '' : `; but ${dir} (mode ${(st.mode & 0o7777).toString(8)}) does not let its group in, so only uid ${st.uid} can reach the socket`;
  const base = `${p}: ${dir} writable; the socket will be mode 0660, group ${groupText}${setgid ? ' (setgid directory)' : ''}${reach}${existing}`;
  if (o.intendedGid === undefined) return line('socket', 'ok', base);
  const intended = groupName(o.intendedGid, o.groupFile);
  if (gid !== o.intendedGid) {
    return line('socket', 'warn', `${base}, not the intended ${o.intendedGroupText ?? intended}: its members could not connect`,
      `run the daemon with that group (systemd Group=), or chgrp ${o.intendedGroupText ?? o.intendedGid} ${dir} && chmod g+s ${dir}`);
  }
  if (reach) return line('socket', 'warn', base, `chmod g+x ${dir} (systemd: RuntimeDirectoryMode=0750)`);
  return line('socket', 'ok', `${base}, as intended`);
}
