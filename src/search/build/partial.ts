// Progress of an interrupted build, kept inside the index folder (IDX/.partial/): key.json names the
// embedder, records.bin holds the vectors embedded so far, one self-contained record per item:
//
//   "NSP1" | u32 body length | u32 CRC-32 of the body | body
//   body = u32 id bytes | id (UTF-8) | u32 hash bytes | content hash (hex; 0 bytes: none) | u32 dim | dim float32
//
// (little-endian). A vector is only ever read with the id and hash of its own record, so torn, interleaved
// or damaged appends cannot pair a vector with another item: on resume the records are read up to the
// first one that is incomplete or fails its checksum, the file is cut there, and the rest is embedded
// again. A restart with the same embedder skips every item whose id and content hash are recovered.
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../io/atomic.js';
import { asDiskFull } from '../../io/disk-full.js';
import { crc32 } from '../../util/crc32.js';
import { faultPoint } from '../../util/fault.js';

export const PARTIAL_DIR = '.partial';
export const PARTIAL_RECORDS = 'records.bin';
const PARTIAL_FORMAT = 'normsoftmax-partial-2';
const MAGIC = 0x3150534e; // "NSP1" read as a little-endian u32
const HEADER = 12;
/** Bound on one record's body (an id and hash of a few KiB, a vector of up to a million floats). */
const MAX_BODY = 1 << 24;

export interface PartialKey {
  checkpointSha256: string | null;
  dim: number;
  resize: number;
  crop: number;
  jpegDraft?: boolean;
}

export interface PartialItem {
  id: string;
  hash: string | null;
}

/** One record: header and body. */
function encodeRecord(it: PartialItem, vector: Float32Array): Buffer {
  const id = Buffer.from(it.id, 'utf8');
  const hash = Buffer.from(it.hash ?? '', 'utf8');
  const body = Buffer.alloc(12 + id.length + hash.length + 4 * vector.length);
  let o = body.writeUInt32LE(id.length, 0);
  o += id.copy(body, o);
  o = body.writeUInt32LE(hash.length, o);
  o += hash.copy(body, o);
  o = body.writeUInt32LE(vector.length, o);
  Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).copy(body, o);
  const header = Buffer.alloc(HEADER);
  header.writeUInt32LE(MAGIC, 0);
  header.writeUInt32LE(body.length, 4);
  header.writeUInt32LE(crc32(body), 8);
  return Buffer.concat([header, body]);
}

function encodeEach(items: readonly PartialItem[], vectors: Float32Array, dim: number): Buffer[] {
  return items.map((it, i) => encodeRecord(it, vectors.subarray(i * dim, (i + 1) * dim)));
}

/** The records of `items` (vectors: n x dim), back to back. */
export function encodeRecords(items: readonly PartialItem[], vectors: Float32Array, dim: number): Buffer {
  return Buffer.concat(encodeEach(items, vectors, dim));
}

export interface DecodedRecords {
  records: { id: string; hash: string | null; vector: Float32Array }[];
  /** Bytes of the valid prefix: the first torn or damaged record (if any) starts here. */
  validBytes: number;
}

/** The records of the valid prefix of `bytes`: each complete, with its checksum, of this dim, finite. */
export function decodeRecords(bytes: Uint8Array, dim: number): DecodedRecords {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: DecodedRecords['records'] = [];
  let at = 0;
  while (at + HEADER <= b.length) {
    if (b.readUInt32LE(at) !== MAGIC) break;
    const length = b.readUInt32LE(at + 4);
    if (length > MAX_BODY || at + HEADER + length > b.length) break;
    const body = b.subarray(at + HEADER, at + HEADER + length);
    if (crc32(body) !== b.readUInt32LE(at + 8) || length < 12) break;
    const idBytes = body.readUInt32LE(0);
    if (8 + idBytes > length) break;
    const hashBytes = body.readUInt32LE(4 + idBytes);
    const dimAt = 8 + idBytes + hashBytes;
    if (dimAt + 4 > length || body.readUInt32LE(dimAt) !== dim || dimAt + 4 + 4 * dim !== length) break;
    const vector = new Float32Array(dim);
    Buffer.from(vector.buffer).set(body.subarray(dimAt + 4));
    if (!vector.every(Number.isFinite)) break;
    records.push({
      id: body.toString('utf8', 4, 4 + idBytes),
      hash: hashBytes === 0 ? null : body.toString('utf8', 8 + idBytes, dimAt),
      vector,
    });
    at += HEADER + length;
  }
  return { records, validBytes: at };
}

export class PartialEmbeddings {
  readonly #dir: string;
  readonly #dim: number;
  readonly #done = new Map<string, Float32Array>();

  constructor(indexDir: string, key: PartialKey, log: (line: string) => void = () => {}) {
    this.#dir = join(indexDir, PARTIAL_DIR);
    this.#dim = key.dim;
    const keyFile = join(this.#dir, 'key.json');
    const keyText = JSON.stringify({ format: PARTIAL_FORMAT, ...key });
    if (existsSync(keyFile) && readFileSync(keyFile, 'utf8') === keyText) this.#load(log);
    else {
      rmSync(this.#dir, { recursive: true, force: true });
      mkdirSync(this.#dir, { recursive: true });
      writeFileAtomic(keyFile, keyText);
    }
  }

  #load(log: (line: string) => void): void {
    const file = join(this.#dir, PARTIAL_RECORDS);
    if (!existsSync(file)) return;
    const bytes = readFileSync(file);
    const { records, validBytes } = decodeRecords(bytes, this.#dim);
    for (const r of records) this.#done.set(`${r.hash}\n${r.id}`, r.vector);
    const dropped = bytes.length - validBytes;
    // Cut the file at the valid prefix, so that later appends line up.
    if (dropped > 0) truncateSync(file, validBytes);
    log(
      `interrupted build: ${records.length} embedded items recovered from ${this.#dir}` +
        (dropped > 0 ? `; ${dropped} bytes after them (a torn or damaged record) dropped` : ''),
    );
  }

  get size(): number {
    return this.#done.size;
  }

  get(id: string, hash: string | null): Float32Array | undefined {
    return this.#done.get(`${hash}\n${id}`);
  }

  append(items: readonly PartialItem[], vectors: Float32Array): void {
    const file = join(this.#dir, PARTIAL_RECORDS);
    const records = encodeEach(items, vectors, this.#dim);
    const bytes = Buffer.concat(records);
    // Where the fault point tears the append: halfway through the chunk's middle record.
    const mid = records.length >> 1;
    const torn = records.slice(0, mid).reduce((n, r) => n + r.length, 0) + ((records[mid]?.length ?? 0) >> 1);
    try {
      appendFileSync(file, bytes.subarray(0, torn));
      faultPoint('index-build:mid-append');
      appendFileSync(file, bytes.subarray(torn));
    } catch (e) {
      throw asDiskFull(e, file);
    }
    items.forEach((it, i) => {
      this.#done.set(`${it.hash}\n${it.id}`, vectors.slice(i * this.#dim, (i + 1) * this.#dim));
    });
    faultPoint('index-build:after-append');
  }

  remove(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
