// A minimal zip reader for torch.save archives: the central directory (with zip64 records), STORED
// entries returned as views into the file's bytes, DEFLATE entries inflated with node:zlib.
// CRCs are not verified (that would hash every byte in JavaScript); sizes, offsets and bounds are checked.
import { inflateRawSync } from 'node:zlib';
import { FormatError } from '../util/errors.js';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const STORED = 0;
const DEFLATE = 8;
const U32_MAX = 0xffffffff;

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #fail: (problem: string) => FormatError;

  /** Reads the central directory of `bytes`; `source` names the file in errors. */
  constructor(bytes: Uint8Array, source: string) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#fail = (problem) => new FormatError(source, problem);
    this.#readDirectory();
  }

  #u16(at: number): number {
    return this.#view.getUint16(at, true);
  }
  #u32(at: number): number {
    return this.#view.getUint32(at, true);
  }
  #u64(at: number): number {
    const v = this.#view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.#fail(`zip field ${v} is out of range`);
    return Number(v);
  }
  #need(at: number, length: number, what: string): void {
    if (at < 0 || at + length > this.#bytes.length)
      throw this.#fail(`truncated zip: ${what} lies past the end of the file`);
  }

  #findEndRecord(): number {
    const last = this.#bytes.length - 22;
    const first = Math.max(0, last - 0xffff);
    for (let at = last; at >= first; at--) if (this.#u32(at) === EOCD) return at;
    throw this.#fail('not a zip archive, or truncated (no end of central directory record)');
  }

  #readDirectory(): void {
    if (this.#bytes.length < 22) throw this.#fail(`truncated zip: only ${this.#bytes.length} bytes`);
    const end = this.#findEndRecord();
    let count = this.#u16(end + 10);
    let size = this.#u32(end + 12);
    let offset = this.#u32(end + 16);
    if (
      (count === 0xffff || size === U32_MAX || offset === U32_MAX) &&
      end >= 20 &&
      this.#u32(end - 20) === ZIP64_LOCATOR
    ) {
      const record = this.#u64(end - 20 + 8);
      this.#need(record, 56, 'the zip64 end record');
      if (this.#u32(record) !== ZIP64_EOCD) throw this.#fail('corrupt zip: bad zip64 end of central directory record');
      count = this.#u64(record + 32);
      size = this.#u64(record + 40);
      offset = this.#u64(record + 48);
    }
    this.#need(offset, size, 'the central directory');
    let at = offset;
    for (let i = 0; i < count; i++) {
      this.#need(at, 46, 'a central directory entry');
      if (this.#u32(at) !== CENTRAL) throw this.#fail(`corrupt zip: central directory entry ${i} has a bad signature`);
      const flags = this.#u16(at + 8);
      const nameLength = this.#u16(at + 28);
      const extraLength = this.#u16(at + 30);
      const commentLength = this.#u16(at + 32);
      this.#need(at + 46, nameLength + extraLength + commentLength, 'a central directory entry');
      const name = new TextDecoder().decode(this.#bytes.subarray(at + 46, at + 46 + nameLength));
      if (flags & 1) throw this.#fail(`zip entry '${name}' is encrypted`);
      const entry: ZipEntry = {
        name,
        method: this.#u16(at + 10),
        compressedSize: this.#u32(at + 20),
        size: this.#u32(at + 24),
        localHeaderOffset: this.#u32(at + 42),
      };
      this.#applyZip64(entry, at + 46 + nameLength, extraLength);
      this.entries.set(name, entry);
      at += 46 + nameLength + extraLength + commentLength;
    }
  }

  // Sizes and offsets that overflow 32 bits are 0xffffffff here and live in the zip64 extra field, in this order.
  #applyZip64(entry: ZipEntry, extraStart: number, extraLength: number): void {
    let at = extraStart;
    while (at + 4 <= extraStart + extraLength) {
      const id = this.#u16(at);
      const length = this.#u16(at + 2);
      if (id === 0x0001) {
        let field = at + 4;
        for (const key of ['size', 'compressedSize', 'localHeaderOffset'] as const) {
          if (entry[key] !== U32_MAX) continue;
          if (field + 8 > at + 4 + length) throw this.#fail(`corrupt zip: short zip64 field for '${entry.name}'`);
          entry[key] = this.#u64(field);
          field += 8;
        }
      }
      at += 4 + length;
    }
  }

  /** The entry's bytes: a view into the archive when STORED, a new buffer when DEFLATEd. */
  read(name: string): Uint8Array {
    const entry = this.entries.get(name);
    if (!entry) throw this.#fail(`zip has no entry '${name}'`);
    const local = entry.localHeaderOffset;
    this.#need(local, 30, `the header of '${name}'`);
    if (this.#u32(local) !== LOCAL) throw this.#fail(`corrupt zip: entry '${name}' has a bad local header`);
    // The local name and extra lengths may differ from the central directory's (PyTorch pads with extras).
    const start = local + 30 + this.#u16(local + 26) + this.#u16(local + 28);
    this.#need(start, entry.compressedSize, `the data of '${name}'`);
    const raw = this.#bytes.subarray(start, start + entry.compressedSize);
    if (entry.method === STORED) {
      if (entry.size !== entry.compressedSize)
        throw this.#fail(`corrupt zip: stored entry '${name}' has mismatched sizes`);
      return raw;
    }
    if (entry.method !== DEFLATE) {
      throw this.#fail(
        `zip entry '${name}' uses compression method ${entry.method}; only stored and deflate are supported`,
      );
    }
    let out: Uint8Array;
    try {
      out = inflateRawSync(raw);
    } catch (e) {
      throw this.#fail(`corrupt zip: cannot inflate '${name}' (${(e as Error).message})`);
    }
    if (out.length !== entry.size) {
      throw this.#fail(`corrupt zip: '${name}' inflated to ${out.length} bytes, expected ${entry.size}`);
    }
    return out;
  }
}
