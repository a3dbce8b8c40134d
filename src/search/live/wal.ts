// A live index's write-ahead log: IDX/wal/<first seq, 16 hex digits>.wal segments of records
// (wal-format.ts). Reading gives the writes after the manifest's wal.appliedSeq; writing appends with group
// commit: the writes that arrive while one batch is being made durable wait and go together in the next
// batch, one write() and one fdatasync() for all of them, and each is answered only once its batch is on
// disk. The next batch is also given a moment to fill (gather): as many writes as were in flight at the last
// batch's end, waited for at most as long as an fdatasync takes. Without it, clients that each wait for their
// answer before sending again split into two cohorts that take turns (8 clients: 4 writes per fdatasync);
// with it they share one. Waiting less than an fdatasync's time never lowers the writes per second: two
// half batches would take two. Segments are preallocated (zeros), so that a batch's fdatasync need not also write the file's size;
// the zeros after the last record end the log as a torn record does. A compaction rotates to a new segment
// between two batches (barrier), and the segments it folded are removed once the new manifest is durable.
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fsyncDir } from '../../io/atomic.js';
import { asDiskFull } from '../../io/disk-full.js';
import { FailureError, InputError } from '../../util/errors.js';
import { faultPoint } from '../../util/fault.js';
import { decodeWalSegment, encodeWalRecord, type LiveOp, type LiveWrite } from './wal-format.js';

export const WAL_DIR = 'wal';
const SEGMENT = /^([0-9a-f]{16})\.wal$/;
/** Zeros written ahead of the records, and added when they run out. */
const PREALLOCATE = 4 << 20;
/** Most bytes of records one batch writes (more wait for the next). */
const MAX_BATCH_BYTES = 16 << 20;
/** Most time a batch waits for writes to gather (ms), however slow the disk's fdatasync. */
const MAX_GATHER_MS = 10;
/** After this long without a batch (ms), the writers counted at the last one are not waited for. */
const GATHER_IDLE_MS = 50;

export const segmentName = (firstSeq: number): string => `${firstSeq.toString(16).padStart(16, '0')}.wal`;

export interface WalSegment {
  name: string;
  firstSeq: number;
  /** Bytes of its valid records. */
  validBytes: number;
  /** Its last record's sequence number (firstSeq - 1 when it has none). */
  lastSeq: number;
}

export interface WalContent {
  /** The writes after `appliedSeq`, in order. */
  ops: LiveOp[];
  /** The last valid record's sequence number (appliedSeq when there is none after it). */
  lastSeq: number;
  segments: WalSegment[];
  /** Bytes other than zeros after the last valid record (a torn write): dropped. */
  tornBytes: number;
}

/** Records the manifest's generation does not include are gone: the folder changed while it was read. */
export class WalGapError extends FailureError {
  override name = 'WalGapError';
}

function listSegments(walDir: string): { name: string; firstSeq: number }[] {
  if (!existsSync(walDir)) return [];
  return readdirSync(walDir)
    .map((name) => ({ name, m: SEGMENT.exec(name) }))
    .filter((s): s is { name: string; m: RegExpExecArray } => s.m !== null)
    .map((s) => ({ name: s.name, firstSeq: Number.parseInt(s.m[1] as string, 16) }))
    .sort((a, b) => a.firstSeq - b.firstSeq);
}

/**
 * The log's writes after `appliedSeq` (the manifest's): every segment is read up to its first invalid
 * record; only the last may end with a torn one. A gap (a segment starting after the record its
 * predecessor, or the manifest, needs next) is a WalGapError when it is before the first record needed
 * (a compaction removed segments while this reader looked: read the manifest again), an InputError
 * naming the damaged segment otherwise.
 */
export function readWal(indexDir: string, appliedSeq: number, dim: number): WalContent {
  const walDir = join(indexDir, WAL_DIR);
  const listed = listSegments(walDir);
  const ops: LiveOp[] = [];
  const segments: WalSegment[] = [];
  let expected = appliedSeq + 1;
  let tornBytes = 0;
  let lastSeq = appliedSeq;
  for (const [i, s] of listed.entries()) {
    const next = listed[i + 1];
    // Every record of this segment is in the generation files: a compaction's leftover.
    if (next !== undefined && next.firstSeq <= appliedSeq + 1) {
      segments.push({ name: s.name, firstSeq: s.firstSeq, validBytes: 0, lastSeq: s.firstSeq - 1 });
      continue;
    }
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(walDir, s.name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        throw new WalGapError(`${join(walDir, s.name)} was removed while it was read`);
      throw e;
    }
    const d = decodeWalSegment(bytes, s.firstSeq, dim);
    const segLast = s.firstSeq + d.ops.length - 1;
    segments.push({ name: s.name, firstSeq: s.firstSeq, validBytes: d.validBytes, lastSeq: segLast });
    if (s.firstSeq > expected) {
      if (ops.length === 0 && s.firstSeq > appliedSeq + 1)
        throw new WalGapError(`${join(walDir, s.name)} starts at record ${s.firstSeq}, after ${appliedSeq + 1}`);
      throw new InputError(
        `${join(walDir, s.name)}: starts at record ${s.firstSeq} but the log before it ends at ${expected - 1} (a damaged segment): move ${walDir} away to open the index without the writes it holds`,
      );
    }
    for (const op of d.ops) if (op.seq > appliedSeq) ops.push(op);
    if (segLast >= expected) expected = segLast + 1;
    lastSeq = Math.max(lastSeq, segLast);
    if (d.torn) {
      if (next !== undefined)
        throw new InputError(
          `${join(walDir, s.name)}: damaged at byte ${d.validBytes} with later segments after it: move ${walDir} away to open the index without the writes it holds`,
        );
      let end = bytes.length;
      while (end > d.validBytes && bytes[end - 1] === 0) end--;
      tornBytes = end - d.validBytes;
    }
  }
  return { ops, lastSeq, segments, tornBytes };
}

type Entry =
  | { kind: 'write'; write: LiveWrite; resolve: (op: LiveOp) => void; reject: (e: Error) => void }
  | {
      kind: 'barrier';
      run: () => Promise<unknown> | unknown;
      resolve: (v: unknown) => void;
      reject: (e: Error) => void;
    };

export interface WalWriterOptions {
  /** Called with each durable batch, in order, before its writers are answered. */
  onDurable: (ops: LiveOp[]) => void;
  /** Makes the segment's written bytes durable (default: fdatasync); tests count or slow it. */
  datasync?: (fh: FileHandle) => Promise<void>;
}

/** Zeros [from, from + length) of a file (a failed batch's bytes), so that the log ends cleanly there. */
async function zero(fh: FileHandle, from: number, length: number): Promise<void> {
  const zeros = Buffer.alloc(Math.min(length, 1 << 20));
  for (let at = from; at < from + length; at += zeros.length)
    await fh.write(zeros, 0, Math.min(zeros.length, from + length - at), at);
  await fh.datasync();
}

async function writeAll(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) done += (await fh.write(buf, done, buf.length - done, position + done)).bytesWritten;
}

export class WalWriter {
  readonly #walDir: string;
  readonly #o: WalWriterOptions;
  #fh: FileHandle;
  #segmentFirst: number;
  #pos: number;
  #allocated: number;
  #nextSeq: number;
  #queue: Entry[] = [];
  #flushing: Promise<void> | null = null;
  #broken: Error | null = null;
  /** Writes in flight when the last batch became durable (its own and those queued meanwhile). */
  #writers = 1;
  #lastDurableAt = 0;
  /** The fdatasync's time (ms), smoothed. */
  #syncMs = 0;
  /** A batch waiting for writes to gather: woken when `want` are queued. */
  #gathering: { want: number; wake: () => void } | null = null;
  /** Bytes of records appended by this writer, and batches made durable. */
  bytes = 0;
  batches = 0;

  private constructor(
    walDir: string,
    fh: FileHandle,
    first: number,
    pos: number,
    allocated: number,
    nextSeq: number,
    o: WalWriterOptions,
  ) {
    this.#walDir = walDir;
    this.#fh = fh;
    this.#segmentFirst = first;
    this.#pos = pos;
    this.#allocated = allocated;
    this.#nextSeq = nextSeq;
    this.#o = o;
  }

  /**
   * Opens the log for appending after record `lastSeq`: the last segment, cut to its valid records (a torn
   * tail zeroed), or a new segment. The caller holds the folder's writer lock.
   */
  static async open(
    indexDir: string,
    content: Pick<WalContent, 'lastSeq' | 'segments'>,
    o: WalWriterOptions,
  ): Promise<WalWriter> {
    const walDir = join(indexDir, WAL_DIR);
    const last = content.segments.at(-1);
    if (last === undefined || last.lastSeq !== content.lastSeq) {
      const { fh, allocated } = await createSegment(walDir, content.lastSeq + 1);
      return new WalWriter(walDir, fh, content.lastSeq + 1, 0, allocated, content.lastSeq + 1, o);
    }
    const path = join(walDir, last.name);
    const fh = await open(path, 'r+');
    try {
      const size = (await fh.stat()).size;
      if (size > last.validBytes) await zero(fh, last.validBytes, size - last.validBytes);
      return new WalWriter(walDir, fh, last.firstSeq, last.validBytes, size, content.lastSeq + 1, o);
    } catch (e) {
      await fh.close();
      throw asDiskFull(e, path);
    }
  }

  /** The sequence number the next write will get. */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  get segment(): string {
    return segmentName(this.#segmentFirst);
  }

  /** Appends a write; resolves with its record once it is durable (and onDurable has seen it). */
  append(write: LiveWrite): Promise<LiveOp> {
    if (this.#broken) return Promise.reject(this.#broken);
    return new Promise((resolve, reject) => {
      this.#queue.push({ kind: 'write', write, resolve, reject });
      if (this.#gathering && this.#queue.length >= this.#gathering.want) this.#gathering.wake();
      this.#kick();
    });
  }

  /** Runs `run` after every write appended before it is durable, and before any appended after it. */
  barrier<T>(run: () => Promise<T> | T): Promise<T> {
    if (this.#broken) return Promise.reject(this.#broken);
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ kind: 'barrier', run, resolve: resolve as (v: unknown) => void, reject });
      this.#kick();
    });
  }

  /** Starts a new segment at the next sequence number (only inside a barrier). */
  async rotate(): Promise<void> {
    const { fh, allocated } = await createSegment(this.#walDir, this.#nextSeq);
    const old = this.#fh;
    this.#fh = fh;
    this.#segmentFirst = this.#nextSeq;
    this.#pos = 0;
    this.#allocated = allocated;
    await old.close();
  }

  /** Removes the segments whose records all have sequence numbers up to `seq` (never the current one). */
  dropThrough(seq: number): number {
    const listed = listSegments(this.#walDir);
    let removed = 0;
    for (const [i, s] of listed.entries()) {
      const next = listed[i + 1];
      if (s.firstSeq === this.#segmentFirst || next === undefined || next.firstSeq > seq + 1) continue;
      rmSync(join(this.#walDir, s.name), { force: true });
      removed++;
    }
    if (removed > 0) fsyncDir(this.#walDir);
    return removed;
  }

  /** Waits for the writes appended so far; then closes the segment. */
  async close(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    this.#broken ??= new FailureError('the write-ahead log is closed');
    await this.#fh.close();
  }

  /**
   * Starts a drain unless one runs. It begins after the current turn of the event loop, so that the writes
   * appended in the same turn (requests read together, a Promise.all of puts) go in the first batch.
   */
  #kick(): void {
    if (this.#flushing) return;
    this.#flushing = new Promise<void>((r) => setImmediate(r)).then(() => this.#drain());
  }

  /**
   * Waits (at most about one fdatasync) until as many writes are queued as were in flight at the last batch's
   * end: those answered by it are on their way back. Not after an idle moment, nor when they are all there.
   */
  async #gather(): Promise<void> {
    const want = this.#writers;
    if (this.#queue.length >= want || performance.now() - this.#lastDurableAt > GATHER_IDLE_MS) return;
    const ms = Math.min(this.#syncMs, MAX_GATHER_MS);
    if (ms <= 0) return;
    await new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#gathering = null;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#gathering = { want, wake };
    });
  }

  /**
   * Flushes until the queue is empty. `#flushing` is cleared in the same synchronous step that finds the
   * queue empty (with an await between the two, an append could come in and wait for nobody).
   */
  async #drain(): Promise<void> {
    for (;;) {
      const head = this.#queue[0];
      if (head === undefined) {
        this.#flushing = null;
        return;
      }
      if (head.kind === 'barrier') {
        this.#queue.shift();
        try {
          head.resolve(await head.run());
        } catch (e) {
          head.reject(e as Error);
        }
        continue;
      }
      await this.#gather();
      const batch: Extract<Entry, { kind: 'write' }>[] = [];
      const records: Buffer[] = [];
      let bytes = 0;
      try {
        while (this.#queue[0]?.kind === 'write' && (bytes === 0 || bytes < MAX_BATCH_BYTES)) {
          const e = this.#queue[0];
          const r = encodeWalRecord(e.write, this.#nextSeq + batch.length);
          this.#queue.shift();
          batch.push(e);
          records.push(r);
          bytes += r.length;
        }
      } catch (e) {
        // A write that cannot be encoded fails alone.
        (this.#queue.shift() as Extract<Entry, { kind: 'write' }>).reject(e as Error);
      }
      if (batch.length > 0) await this.#flush(batch, Buffer.concat(records));
    }
  }

  async #flush(batch: Extract<Entry, { kind: 'write' }>[], buf: Buffer): Promise<void> {
    const at = this.#pos;
    const path = join(this.#walDir, segmentName(this.#segmentFirst));
    try {
      if (at + buf.length > this.#allocated) await this.#extend(at + buf.length);
      // Where the fault point tears the batch: half of its bytes on disk.
      const half = buf.length >> 1;
      await writeAll(this.#fh, buf.subarray(0, half), at);
      faultPoint('wal:mid-append');
      await writeAll(this.#fh, buf.subarray(half), at + half);
      faultPoint('wal:before-fsync');
      const syncStart = performance.now();
      await (this.#o.datasync ? this.#o.datasync(this.#fh) : this.#fh.datasync());
      const now = performance.now();
      this.#syncMs = this.batches === 0 ? now - syncStart : 0.8 * this.#syncMs + 0.2 * (now - syncStart);
      this.#lastDurableAt = now;
      faultPoint('wal:after-fsync');
    } catch (e) {
      const error = asDiskFull(e, path) as Error;
      try {
        await zero(this.#fh, at, Math.min(buf.length, this.#allocated - at));
      } catch (z) {
        // The log cannot be made to end cleanly: no write may follow (the next open cuts it).
        this.#broken = asDiskFull(z, path) as Error;
      }
      for (const w of batch) w.reject(error);
      // Later writes were counted on this batch (their status, their sequence numbers): they fail too.
      for (const w of this.#queue.splice(0)) w.reject(error);
      return;
    }
    const ops: LiveOp[] = batch.map((e, i) => ({ ...e.write, seq: this.#nextSeq + i }) as LiveOp);
    this.#pos += buf.length;
    this.#nextSeq += batch.length;
    this.bytes += buf.length;
    this.batches += 1;
    this.#writers = batch.length + this.#queue.filter((e) => e.kind === 'write').length;
    this.#o.onDurable(ops);
    for (const [i, op] of ops.entries()) batch[i]?.resolve(op);
  }

  async #extend(needed: number): Promise<void> {
    const size = Math.max(needed, this.#allocated + PREALLOCATE);
    await writeAll(this.#fh, Buffer.alloc(size - this.#allocated), this.#allocated);
    await this.#fh.sync();
    this.#allocated = size;
  }
}

/** A new, preallocated segment whose first record will be `firstSeq`; its name made durable. */
async function createSegment(walDir: string, firstSeq: number): Promise<{ fh: FileHandle; allocated: number }> {
  const path = join(walDir, segmentName(firstSeq));
  try {
    const created = !existsSync(walDir);
    mkdirSync(walDir, { recursive: true });
    if (created) fsyncDir(join(walDir, '..'));
    // Written synchronously: the zeros and the name are durable before any record goes in.
    const fd = openSync(path, 'w');
    try {
      const zeros = Buffer.alloc(PREALLOCATE);
      let done = 0;
      while (done < zeros.length) done += writeSync(fd, zeros, done, zeros.length - done);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    fsyncDir(walDir);
    return { fh: await open(path, 'r+'), allocated: PREALLOCATE };
  } catch (e) {
    throw asDiskFull(e, path);
  }
}
