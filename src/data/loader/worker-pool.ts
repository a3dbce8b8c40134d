// A fixed pool of decode workers with bounded work in flight: each worker holds at most `perWorker`
// images, the rest wait in a queue. Workers keep the process alive only while they have work.
import { Worker } from 'node:worker_threads';
import { BadImageError } from '../image/bad-image-error.js';
import type { ImageJob, ImageResult } from './process-image.js';
import type { WorkerReply, WorkerRequest } from './worker-protocol.js';

interface Pending {
  resolve: (r: ImageResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  dead: Error | null;
}

const BOOT = new URL('./decode-worker-boot.mjs', import.meta.url);

export class DecodePool {
  private readonly slots: Slot[] = [];
  private readonly queue: { req: WorkerRequest; p: Pending }[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    readonly workers: number,
    readonly perWorker: number,
  ) {
    if (!Number.isInteger(workers) || workers < 1)
      throw new RangeError(`decode pool: workers must be >= 1, got ${workers}`);
    if (!Number.isInteger(perWorker) || perWorker < 1) {
      throw new RangeError(`decode pool: perWorker must be >= 1, got ${perWorker}`);
    }
    for (let i = 0; i < workers; i++) this.slots.push(this.spawn());
  }

  /** Workers started. */
  get started(): number {
    return this.slots.length;
  }

  private spawn(): Slot {
    const worker = new Worker(BOOT);
    const slot: Slot = { worker, pending: new Map(), dead: null };
    worker.unref();
    worker.on('message', (reply: WorkerReply) => this.onReply(slot, reply));
    const fail = (e: Error) => {
      if (slot.dead) return;
      slot.dead = e;
      for (const p of slot.pending.values()) p.reject(e);
      slot.pending.clear();
      this.pump();
    };
    worker.on('error', (e) => fail(new Error(`decode worker failed: ${e.message}`)));
    worker.on('exit', (code) => fail(new Error(`decode worker exited (code ${code})`)));
    return slot;
  }

  private onReply(slot: Slot, reply: WorkerReply): void {
    const p = slot.pending.get(reply.id);
    if (!p) return;
    slot.pending.delete(reply.id);
    // Not once closing: terminate() refs the worker so that its exit can arrive, and an unref here would
    // let the event loop empty first, leaving close() pending forever (the process then exits, code 13).
    if (slot.pending.size === 0 && !this.closed) slot.worker.unref();
    if (reply.ok) p.resolve({ chw: reply.chw, shape: reply.shape, resized: reply.resized });
    else if (reply.bad) p.reject(new BadImageError(reply.path, reply.message));
    else p.reject(new Error(`${reply.path}: ${reply.message}`));
    this.pump();
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const live = this.slots.filter((s) => !s.dead);
      if (live.length === 0) {
        const e = new Error('every decode worker has stopped');
        for (const { p } of this.queue.splice(0)) p.reject(e);
        return;
      }
      let best: Slot | undefined;
      for (const s of live)
        if (s.pending.size < this.perWorker && (!best || s.pending.size < best.pending.size)) best = s;
      if (!best) return;
      const { req, p } = this.queue.shift() as { req: WorkerRequest; p: Pending };
      if (best.pending.size === 0) best.worker.ref();
      best.pending.set(req.id, p);
      try {
        best.worker.postMessage(req);
      } catch (e) {
        best.pending.delete(req.id);
        if (best.pending.size === 0) best.worker.unref();
        p.reject(e instanceof Error ? e : new Error(String(e)));
      }
    }
  }

  /** Decodes and transforms the image at path in a worker. */
  run(path: string, job: ImageJob): Promise<ImageResult> {
    if (this.closed) return Promise.reject(new Error('decode pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ req: { ...job, id: this.nextId++, path }, p: { resolve, reject } });
      this.pump();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const e = new Error('decode pool is closed');
    for (const { p } of this.queue.splice(0)) p.reject(e);
    // Jobs in flight settle now: their replies, if any still come, are dropped.
    for (const s of this.slots) {
      for (const p of s.pending.values()) p.reject(e);
      s.pending.clear();
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
