/** One JSON line per event on stderr (stdout carries only the "listening" line tools parse). */
import type { Log } from './gateway.js';

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof LEVELS;

export function isLogLevel(s: string): s is LogLevel {
  return Object.prototype.hasOwnProperty.call(LEVELS, s);
}

export function stderrLog(min: LogLevel, name: string): Log {
  return (level, message, fields) => {
    if (LEVELS[level] < LEVELS[min]) return;
    process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level, name, msg: message, ...fields }) + '\n');
  };
}
