/**
 * Who may tell the daemon what. The socket's file mode (0660) already keeps out most local
 * users, but a mode can be loosened by mistake or a socket inherited from a service manager
 * with other ownership, so every connection's peer is checked with SO_PEERCRED:
 *
 * - `admin`:  the daemon's own uid, or a member of a configured admin group — every op;
 * - `reader`: a member of the socket file's group — read-only ops (hello, subscribe, status, advise);
 * - `refused`: anybody else — one `peer_refused` error, then the connection is closed.
 *
 * State-changing ops (`reload`, and `report`, which feeds tok/s and the engine's footprint into
 * the governor) need `admin`. Where the binding cannot read SO_PEERCRED (the TS fallback) every
 * connected peer is treated as `admin`: access then rests on the file mode and group alone, as
 * the daemon logs once at start.
 */
import fs from 'node:fs';
import type { PeerCredentials, PeerCredentialsResult } from '../native/binding-interface.js';

export type PeerRole = 'admin' | 'reader' | 'refused';

export interface PeerAccess {
  /** The daemon's uid. */
  ownerUid: number;
  /** The socket file's group (its members are readers). */
  socketGid?: number;
  /** Groups whose members may send state-changing messages. */
  adminGids: readonly number[];
}

/** Ops that change what the daemon does. */
export const STATE_CHANGING_OPS: ReadonlySet<string> = new Set(['reload', 'report']);

/** Supplementary groups of a live process (`Groups:` in /proc/<pid>/status); [] when unreadable. */
export function supplementaryGroups(pid: number, procRoot = '/proc'): number[] {
  try {
    const text = fs.readFileSync(`${procRoot}/${pid}/status`, 'latin1');
    const m = /^Groups:[ \t]*([0-9 \t]*)$/m.exec(text);
    return m ? m[1]!.trim().split(/\s+/).filter(Boolean).map(Number) : [];
  } catch {
    return [];
  }
}

/** Pure: the role of a peer with these credentials and groups. */
export function peerRole(cred: PeerCredentials, groups: readonly number[], access: PeerAccess): { role: PeerRole; why: string } {
  const inGroup = (g: number) => cred.gid === g || groups.includes(g);
  if (cred.uid === access.ownerUid) return { role: 'admin', why: `uid ${cred.uid} is the daemon's` };
  const admin = access.adminGids.find(inGroup);
  if (admin !== undefined) return { role: 'admin', why: `uid ${cred.uid} is in admin group ${admin}` };
  if (access.socketGid !== undefined && inGroup(access.socketGid)) {
    return { role: 'reader', why: `uid ${cred.uid} is in the socket's group ${access.socketGid}` };
  }
  return {
    role: 'refused',
    why: `uid ${cred.uid} (gid ${cred.gid}) is not the daemon's uid ${access.ownerUid}` +
      `${access.socketGid !== undefined ? `, not in the socket's group ${access.socketGid}` : ''}` +
      `${access.adminGids.length ? ` and not in admin group ${access.adminGids.join('/')}` : ''}`,
  };
}

/** The role of a connected peer, from the binding's SO_PEERCRED answer. */
export function classifyPeer(
  creds: PeerCredentialsResult,
  access: PeerAccess,
  groupsOf: (pid: number) => number[] = supplementaryGroups,
): { role: PeerRole; why: string; cred?: PeerCredentials; unchecked?: boolean } {
  if (!creds.ok) {
    // A binding that can never ask falls back to the file mode; a refusal for this fd fails closed.
    return creds.unsupported ? { role: 'admin', why: creds.why, unchecked: true } : { role: 'refused', why: creds.why };
  }
  const cred = { pid: creds.pid, uid: creds.uid, gid: creds.gid };
  return { ...peerRole(cred, creds.pid > 0 ? groupsOf(creds.pid) : [], access), cred };
}

/** `--admin-group`: a numeric gid or a name from /etc/group; undefined when unknown. */
export function resolveGroup(nameOrGid: string, groupFile = '/etc/group'): number | undefined {
  if (/^\d+$/.test(nameOrGid)) return Number(nameOrGid);
  try {
    for (const line of fs.readFileSync(groupFile, 'utf8').split('\n')) {
      const [name, , gid] = line.split(':');
      if (name === nameOrGid && gid && /^\d+$/.test(gid)) return Number(gid);
    }
  } catch { /* no group database: unknown */ }
  return undefined;
}
