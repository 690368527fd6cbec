/**
 * Why a PSI trigger was not armed, and why there is no PSI at all, in the integrator's terms:
 * permission, kernel config, cgroup, or a file that is not the kernel's (a fixture tree).
 * Errno meanings follow research 02 §8 cases 1-4 and psi_watcher.cc.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Explained {
  readonly why: string;
  readonly fix?: string;
}

/** The last errno code in a refusal such as `some 150000 1000000: EINVAL`. */
function codeOf(refusal: string): string {
  return refusal.slice(refusal.lastIndexOf(':') + 1).trim();
}

export function explainRefusal(refusal: string, path: string): Explained {
  switch (codeOf(refusal)) {
    case 'EOPNOTSUPP':
      return {
        why: `${path} is not a procfs or cgroup2 pressure file (a fixture tree or a copy), so no trigger was written to it`,
        fix: 'nothing to change on a copy; on the board itself run doctor without --sysfs-root',
      };
    case 'EPERM':
    case 'EACCES':
      return {
        why: 'permission: before Linux 6.4 only CAP_SYS_RESOURCE may write a trigger, and on Android the SELinux domain needs write on /proc/pressure/memory',
        fix: 'run as root or with AmbientCapabilities=CAP_SYS_RESOURCE (kernel < 6.4); on Android allow the edgegov domain write on proc_pressure_mem',
      };
    case 'EROFS':
      return {
        why: '/proc is mounted read-only here (systemd ProtectKernelTunables=yes, or a container)',
        fix: 'keep ProtectKernelTunables=no in the unit (deploy/edgegov.service does); in a container mount /proc/pressure read-write',
      };
    case 'EINVAL':
      return {
        why: 'the kernel refused the trigger window (unprivileged writers on Linux ≥ 6.4 need a multiple of 2 s; < 500 ms or > 10 s is never accepted)',
      };
    case 'EBUSY':
      return { why: 'a trigger is already armed on that descriptor' };
    case 'ENOENT':
      return { why: `${path} disappeared (cgroup removed, or PSI switched off)` };
    default:
      return { why: `the kernel answered ${codeOf(refusal)}` };
  }
}

/**
 * Why `proc/pressure/memory` is missing under `root`: a kernel config or boot flag, a cgroup-only
 * view, or an incomplete copy of /proc.
 */
export function explainNoPsi(root: string, discoveryWhy: string | undefined): Explained {
  const fix = 'boot with psi=1 (Raspberry Pi OS: append to /boot/firmware/cmdline.txt; Armbian: extraargs= in /boot/armbianEnv.txt) or build with CONFIG_PSI=y';
  const cmdline = readOr(join(root, 'proc/cmdline'));
  if (cmdline !== undefined && /(^|\s)psi=0(\s|$)/.test(cmdline)) {
    return { why: 'the kernel command line has psi=0', fix: 'remove psi=0 from the kernel command line and reboot' };
  }
  const pressureDir = join(root, 'proc/pressure');
  if (existsSync(pressureDir)) {
    const present = listOr(pressureDir);
    return {
      why: `proc/pressure/ has ${present.length ? present.join(', ') : 'no files'} but no memory file (an incomplete /proc, or the kernel's memory PSI is off)`,
      fix,
    };
  }
  if (existsSync(join(root, 'sys/fs/cgroup/memory.pressure'))) {
    return {
      why: 'only cgroup2 memory.pressure exists (a container\'s view); edgegov reads the system-wide /proc/pressure/memory',
      fix: 'run edgegov on the host, or bind-mount the host\'s /proc/pressure into the container',
    };
  }
  return { why: discoveryWhy ?? 'no proc/pressure/memory', fix };
}

function readOr(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

function listOr(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}
