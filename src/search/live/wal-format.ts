// The records of a live index's write-ahead log (IDX/wal/, docs/index-format.md "The live index"), one per
// write, little-endian:
//
//   "NSW1" | u32 body length | u32 CRC-32 (IEEE) of seq and body | u64 seq | body
//   put:    body = u8 1 | u32 item bytes | item (UTF-8 JSON: id, path, label, size, hash[, meta][, stored])
//                 | u32 dim | dim float32 (the unit vector)
//   delete: body = u8 2 | u32 id bytes | id (UTF-8)
//
// A record is only ever read whole: complete, with its checksum, its sequence number the one after the
// previous record's, and a valid body. The log's valid prefix ends at the first record that is not (a torn
// tail after a crash, or the zeros of the segment's preallocated space).
import { crc32 } from '../../util/crc32.js';
import type { ItemMeta } from '../types.js';
import { itemFromRecord, itemRecord } from '../usearch/items-file.js';

export const WAL_MAGIC = 0x3157534e; // "NSW1" read as a little-endian u32
export const WAL_HEADER = 20;
/** Bound on one record's body: an item of a few KiB and a vector of up to a million floats. */
const MAX_BODY = 1 << 24;
const OP_PUT = 1;
const OP_DELETE = 2;

/** One write: an item put (created or replaced) with its vector, or an item deleted. */
export type LiveOp =
  | { kind: 'put'; seq: number; item: ItemMeta; vector: Float32Array }
  | { kind: 'delete'; seq: number; id: string };

/** A write as it is enqueued, before the log gives it its sequence number. */
export type LiveWrite = { kind: 'put'; item: ItemMeta; vector: Float32Array } | { kind: 'delete'; id: string };

export function encodeWalRecord(w: LiveWrite, seq: number): Buffer {
  let body: Buffer;
  if (w.kind === 'put') {
    const item = Buffer.from(JSON.stringify(itemRecord(w.item)), 'utf8');
    body = Buffer.alloc(1 + 4 + item.length + 4 + 4 * w.vector.length);
    body.writeUInt8(OP_PUT, 0);
    body.writeUInt32LE(item.length, 1);
    item.copy(body, 5);
    const at = 5 + item.length;
    body.writeUInt32LE(w.vector.length, at);
    Buffer.from(w.vector.buffer, w.vector.byteOffset, w.vector.byteLength).copy(body, at + 4);
  } else {
    const id = Buffer.from(w.id, 'utf8');
    body = Buffer.alloc(5 + id.length);
    body.writeUInt8(OP_DELETE, 0);
    body.writeUInt32LE(id.length, 1);
    id.copy(body, 5);
  }
  const record = Buffer.alloc(WAL_HEADER + body.length);
  record.writeUInt32LE(WAL_MAGIC, 0);
  record.writeUInt32LE(body.length, 4);
  record.writeBigUInt64LE(BigInt(seq), 12);
  body.copy(record, WAL_HEADER);
  record.writeUInt32LE(crc32(record.subarray(12)), 8);
  return record;
}

function decodeBody(body: Buffer, seq: number, dim: number): LiveOp | null {
  const op = body.readUInt8(0);
  if (body.length < 5) return null;
  const n = body.readUInt32LE(1);
  if (5 + n > body.length) return null;
  if (op === OP_DELETE) {
    if (5 + n !== body.length || n === 0) return null;
    return { kind: 'delete', seq, id: body.toString('utf8', 5, 5 + n) };
  }
  if (op !== OP_PUT || 5 + n + 4 > body.length) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8', 5, 5 + n));
  } catch {
    return null;
  }
  const item = itemFromRecord(parsed);
  if (typeof item === 'string') return null;
  const at = 5 + n;
  if (body.readUInt32LE(at) !== dim || at + 4 + 4 * dim !== body.length) return null;
  const vector = new Float32Array(dim);
  Buffer.from(vector.buffer).set(body.subarray(at + 4));
  if (!vector.every(Number.isFinite)) return null;
  return { kind: 'put', seq, item, vector };
}

export interface DecodedWal {
  ops: LiveOp[];
  /** Bytes of the valid prefix. */
  validBytes: number;
  /** Whether anything but zeros follows the valid prefix (a torn or damaged record). */
  torn: boolean;
}

/**
 * The records of the valid prefix of one segment's bytes: each complete, checksummed, with sequence
 * numbers `firstSeq`, `firstSeq + 1`, ... (the segment's name says its first), and vectors of `dim` values.
 */
export function decodeWalSegment(bytes: Uint8Array, firstSeq: number, dim: number): DecodedWal {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ops: LiveOp[] = [];
  let at = 0;
  let seq = firstSeq;
  while (at + WAL_HEADER <= b.length) {
    if (b.readUInt32LE(at) !== WAL_MAGIC) break;
    const length = b.readUInt32LE(at + 4);
    if (length === 0 || length > MAX_BODY || at + WAL_HEADER + length > b.length) break;
    if (crc32(b.subarray(at + 12, at + WAL_HEADER + length)) !== b.readUInt32LE(at + 8)) break;
    if (b.readBigUInt64LE(at + 12) !== BigInt(seq)) break;
    const op = decodeBody(b.subarray(at + WAL_HEADER, at + WAL_HEADER + length), seq, dim);
    if (op === null) break;
    ops.push(op);
    seq++;
    at += WAL_HEADER + length;
  }
  let torn = false;
  for (let i = at; i < b.length; i++) {
    if (b[i] !== 0) {
      torn = true;
      break;
    }
  }
  return { ops, validBytes: at, torn };
}
