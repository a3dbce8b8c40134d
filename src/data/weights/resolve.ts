// `--pretrained NAME|FILE` and `--checkpoint NAME|FILE`: an existing file wins; otherwise a name from the
// weights table is looked up in the cache (and downloaded when absent, in the async form).
import { existsSync } from 'node:fs';
import { InputError } from '../../util/errors.js';
import { cachedWeightsPath, type FetchOptions, fetchWeights, verifyCachedSync } from './cache.js';
import { weightsEntry, weightsTable } from './table.js';

export interface ResolvedWeights {
  path: string;
  /** The table's architecture when a name was given. */
  arch?: string;
  /** The table name, when one was given. */
  name?: string;
}

export interface ResolveOptions extends FetchOptions {
  /** The flag, for messages (default --checkpoint). */
  flag?: string;
  /** Said when a name must be downloaded (why these weights). */
  note?: string;
}

function unknown(nameOrPath: string, flag: string): InputError {
  const names = Object.keys(weightsTable()).join(', ');
  return new InputError(`${flag} ${nameOrPath}: file not found, and not a weights name (known: ${names})`);
}

/** A file path for a file or a weights name, downloading a name that is not cached yet. */
export async function resolveWeights(nameOrPath: string, o: ResolveOptions = {}): Promise<ResolvedWeights> {
  if (existsSync(nameOrPath)) return { path: nameOrPath };
  const flag = o.flag ?? '--checkpoint';
  const entry = weightsEntry(nameOrPath);
  if (!entry) throw unknown(nameOrPath, flag);
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (!existsSync(cachedWeightsPath(entry)))
    log(`${flag} ${nameOrPath}: not in the weights cache yet${o.note ? ` ${o.note}` : ''}`);
  const path = await fetchWeights(nameOrPath, entry, { ...o, log });
  return { path, arch: entry.arch, name: nameOrPath };
}

/** The same for sync callers: a name must already be in the cache (it is checked, not downloaded). */
export function resolveWeightsSync(nameOrPath: string, o: { flag?: string } = {}): ResolvedWeights {
  if (existsSync(nameOrPath)) return { path: nameOrPath };
  const flag = o.flag ?? '--checkpoint';
  const entry = weightsEntry(nameOrPath);
  if (!entry) throw unknown(nameOrPath, flag);
  const path = cachedWeightsPath(entry);
  if (!existsSync(path)) {
    throw new InputError(
      `${flag} ${nameOrPath}: not downloaded yet; run \`normsoftmax weights download ${nameOrPath}\` first`,
    );
  }
  verifyCachedSync(nameOrPath, entry, path);
  return { path, arch: entry.arch, name: nameOrPath };
}
