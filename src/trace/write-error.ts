/**
 * An output file that cannot be created. Opening `dir/x.csv` for writing fails with ENOENT
 * when `dir` is missing, which envErrorFrom words as "no such file" — true for a file being
 * read, but baffling for one the user asked us to create. Name the missing directory instead.
 */
import { dirname, resolve } from 'node:path';
import { EnvError, envErrorFrom } from '../util/errors.js';

export function writeErrorFrom(err: unknown, path: string): EnvError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new EnvError(`${path}: cannot create it: directory ${dirname(resolve(path))} does not exist`);
  }
  return envErrorFrom(err, path);
}
