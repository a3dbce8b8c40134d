// The data files of a usearch index folder, verified against the manifest (size and SHA-256) and checked
// against its counts before anything reads them: for opening the index and for incremental rebuilds.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { canMapFiles, type FileIdentity, identityOf, mapFile } from '../../io/mapped-file.js';
import { FormatError } from '../../util/errors.js';
import type { StoredContent } from '../backend.js';
import { withLog } from '../live/replay.js';
import { type DataFile, fileOf, type Manifest, readManifest } from '../manifest.js';
import { bytesPerValue, dequantize } from '../precision.js';
import type { ItemMeta } from '../types.js';
import { verifyFiles } from '../verify.js';
import { parseItems } from './items-file.js';

/** The raw arrays of an index (verified), for the index itself and for incremental rebuilds. */
export interface IndexArrays {
  manifest: Manifest;
  items: ItemMeta[];
  /** Stored bytes of the vectors (and i8 scales), as in the files. */
  vectorBytes: Uint8Array;
  scales: Uint8Array | null;
  codes: Uint8Array;
  /**
   * Where the vectors were memory-mapped rather than read (f32 with mapVectors, where mapping works): the file
   * and its identity as verified, for another thread to map the same bytes.
   */
  mappedVectors: { path: string; identity: FileIdentity } | null;
}

function need(dir: string, m: Manifest, role: DataFile['role']): DataFile {
  const f = fileOf(m, role);
  if (!f) throw new FormatError(join(dir, 'manifest.json'), `lists no ${role} file`);
  return f;
}

/**
 * o.mapVectors: f32 vectors memory-mapped (io/mapped-file.ts) instead of read into the heap, where mapping
 * works; they are verified first all the same (hashed in chunks from disk, so that verifying does not make
 * them resident), and mapped only if the file is still the one hashed.
 */
export function readIndexArrays(dir: string, o: { verify?: boolean; mapVectors?: boolean } = {}): IndexArrays {
  const manifest = readManifest(dir);
  const { items: n, dim, precision, codeBytes } = manifest;
  const vf = need(dir, manifest, 'vectors');
  const mapping = o.mapVectors === true && precision === 'f32' && canMapFiles();
  // The files read here are hashed as they are read for verification, not read a second time.
  const arrays = new Set(
    manifest.files
      .filter((f) => ['vectors', 'scales', 'codes', 'items'].includes(f.role) && !(mapping && f.name === vf.name))
      .map((f) => f.name),
  );
  const identities = new Map<string, FileIdentity>();
  const verified =
    o.verify !== false ? verifyFiles(dir, manifest, { keep: arrays, identities }) : new Map<string, Uint8Array>();
  const read = (f: DataFile) => verified.get(f.name) ?? new Uint8Array(readFileSync(join(dir, f.name)));
  const vectorsPath = join(dir, vf.name);
  const map = mapping ? mapFile(vectorsPath, identities.get(vf.name)) : null;
  const vectorBytes = map ? map.bytes : read(vf);
  const mappedVectors =
    map?.mapped === true
      ? { path: vectorsPath, identity: identities.get(vf.name) ?? identityOf(statSync(vectorsPath)) }
      : null;
  if (vectorBytes.length !== n * dim * bytesPerValue(precision))
    throw new FormatError(join(dir, vf.name), `expected ${n} x ${dim} ${precision} values`);
  const sf = precision === 'i8' ? need(dir, manifest, 'scales') : undefined;
  const scales = sf ? read(sf) : null;
  if (scales && scales.length !== n * 4)
    throw new FormatError(join(dir, (sf as DataFile).name), `expected ${n} float32 scales`);
  const cf = need(dir, manifest, 'codes');
  const codes = read(cf);
  if (codes.length !== n * codeBytes)
    throw new FormatError(join(dir, cf.name), `expected ${n} codes of ${codeBytes} bytes`);
  const itf = need(dir, manifest, 'items');
  const itemBytes = read(itf);
  const itemText = Buffer.from(itemBytes.buffer, itemBytes.byteOffset, itemBytes.byteLength).toString('utf8');
  const items = parseItems(itemText, join(dir, itf.name), n);
  return { manifest, items, vectorBytes, scales, codes, mappedVectors };
}

/**
 * The items, vectors (dequantised from the stored precision, not renormalised) and codes of an index, with
 * a live index's log applied (../live/replay.ts).
 */
export function readUsearchContent(dir: string): StoredContent {
  const a = readIndexArrays(dir);
  const { items: n, dim, precision } = a.manifest;
  const vectors = dequantize(a.vectorBytes, a.scales, n, dim, precision, { renormalise: false });
  return withLog({ manifest: a.manifest, items: a.items, vectors, codes: a.codes }, dir);
}
