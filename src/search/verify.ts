// Checks every data file of an index against its manifest (size, then SHA-256) before anything reads
// it: usearch's loader trusts its input, and a vectors file of the wrong size would be misread.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type FileIdentity, identityOf, sameFile } from '../io/mapped-file.js';
import { InputError } from '../util/errors.js';
import type { Manifest } from './manifest.js';
import { sha256File, sha256Hex } from './sha256.js';

/**
 * Throws an InputError naming the first file that is missing or differs from the manifest. The files named in
 * `keep` are read whole and returned, checked, so that the caller does not read them a second time; the
 * others are hashed in chunks from disk. `identities` receives each file's identity (device, inode, size,
 * modification time) as it was hashed, for a caller that memory-maps a file afterwards (io/mapped-file.ts).
 */
export function verifyFiles(
  dir: string,
  m: Manifest,
  o: { keep?: ReadonlySet<string>; identities?: Map<string, FileIdentity> } = {},
): Map<string, Uint8Array> {
  const kept = new Map<string, Uint8Array>();
  for (const f of m.files) {
    const path = join(dir, f.name);
    if (!existsSync(path))
      throw new InputError(`index ${dir}: ${f.name} is missing (the manifest lists it): rebuild the index`);
    const before = identityOf(statSync(path));
    const size = before.size;
    if (size !== f.bytes) {
      throw new InputError(
        `index ${dir}: ${f.name} has ${size} bytes, the manifest says ${f.bytes} (changed or corrupt): rebuild the index`,
      );
    }
    const bytes = o.keep?.has(f.name) ? new Uint8Array(readFileSync(path)) : null;
    if ((bytes ? sha256Hex(bytes) : sha256File(path)) !== f.sha256) {
      throw new InputError(
        `index ${dir}: ${f.name} does not match its SHA-256 in the manifest (changed or corrupt): rebuild the index`,
      );
    }
    if (bytes) kept.set(f.name, bytes);
    if (o.identities) {
      if (!sameFile(identityOf(statSync(path)), before))
        throw new InputError(`index ${dir}: ${f.name} changed while it was verified: open the index again`);
      o.identities.set(f.name, before);
    }
  }
  return kept;
}
