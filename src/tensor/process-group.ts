// A c10d process group (TCPStore + ProcessGroupGloo in the addon, native/src/dist.cpp): the thin
// typed layer over the addon. Every rendezvous and collective returns a Promise settled from a
// background thread, so the event loop keeps running while a rank waits for its peers.
// Tensors are validated here (dense, contiguous, on the CPU) because Gloo reads their memory directly.
import { native } from './native.js';
import type { Tensor } from './tensor.js';

export type ReduceOp = 'sum' | 'max' | 'min' | 'product';

export interface ProcessGroupOptions {
  /** The TCPStore's host (MASTER_ADDR). */
  masterAddr: string;
  /** The TCPStore's port (MASTER_PORT). */
  port: number;
  rank: number;
  worldSize: number;
  /** Rank 0 hosts the TCPStore; false when torchrun's agent already hosts it. */
  hostStore: boolean;
  /** The key prefix of torchrun's agent store ("/worker/attempt_N"), or '' for none. */
  storePrefix?: string;
  /** GLOO_SOCKET_IFNAME: the network interfaces Gloo uses (comma-separated). */
  ifname?: string;
  /** The address Gloo binds to when no interface is named ('' lets Gloo resolve the host name). */
  hostname?: string;
  /** Every rendezvous, store request and collective fails after this long. */
  timeoutMs: number;
  /** Gloo's worker threads in this process. */
  threads?: number;
  /**
   * This rank's view of the job ("key=value ..."): every rank publishes it in the store and the join
   * fails at once with "job mismatch|rankA|viewA|rankB|viewB" when two differ. '' (default) skips the
   * check (a rank joining a group with PyTorch ranks, which do not publish one).
   */
  announce?: string;
}

/** Why distributed training is unavailable in this build of the addon, or null when it is available. */
export function distributedUnavailableReason(): string | null {
  const reason = native.distAvailable();
  return reason === '' ? null : reason;
}

function checkTensors(what: string, tensors: readonly Tensor[]): void {
  for (const t of tensors) {
    if (t.isDisposed) throw new Error(`${what}: a tensor was disposed`);
    if (t.device !== 'cpu') throw new Error(`${what}: Gloo takes CPU tensors, got one on ${t.device}`);
    if (!t.isContiguous()) throw new Error(`${what}: tensors must be contiguous (call .contiguous() first)`);
  }
}

export class ProcessGroup {
  #id: number | null;
  readonly rank: number;
  readonly worldSize: number;

  private constructor(id: number, rank: number, worldSize: number) {
    this.#id = id;
    this.rank = rank;
    this.worldSize = worldSize;
  }

  /** Rendezvous with the other ranks (resolves once every rank has joined). */
  static async init(opts: ProcessGroupOptions): Promise<ProcessGroup> {
    const reason = distributedUnavailableReason();
    if (reason !== null) throw new Error(reason);
    const { rank, worldSize, port } = opts;
    if (!Number.isInteger(worldSize) || worldSize < 1)
      throw new RangeError(`world size must be >= 1, got ${worldSize}`);
    if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) {
      throw new RangeError(`rank must be in [0, ${worldSize}), got ${rank}`);
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new RangeError(`port must be in [1, 65535], got ${port}`);
    const id = await native.distInit({
      masterAddr: opts.masterAddr,
      port,
      rank,
      worldSize,
      hostStore: opts.hostStore,
      storePrefix: opts.storePrefix ?? '',
      ifname: opts.ifname ?? '',
      hostname: opts.hostname ?? '',
      timeoutMs: Math.max(1, Math.round(opts.timeoutMs)),
      threads: opts.threads ?? 2,
      announce: opts.announce ?? '',
    });
    return new ProcessGroup(id, rank, worldSize);
  }

  get #group(): number {
    if (this.#id === null) throw new Error('process group used after destroy()');
    return this.#id;
  }

  /** Reduces each tensor in place across the ranks (one collective per tensor). */
  allreduce(tensors: readonly Tensor[], op: ReduceOp = 'sum'): Promise<void> {
    checkTensors('allreduce()', tensors);
    if (tensors.length === 0) return Promise.resolve();
    return native.distAllreduce(
      this.#group,
      tensors.map((t) => t.handle),
      op,
    );
  }

  /** Overwrites each tensor with rank `root`'s. */
  broadcast(tensors: readonly Tensor[], root = 0): Promise<void> {
    checkTensors('broadcast()', tensors);
    if (!Number.isInteger(root) || root < 0 || root >= this.worldSize)
      throw new RangeError(`broadcast(): bad root ${root}`);
    if (tensors.length === 0) return Promise.resolve();
    return native.distBroadcast(
      this.#group,
      tensors.map((t) => t.handle),
      root,
    );
  }

  /** outputs[r] receives rank r's input (same shape and dtype on every rank). */
  allgather(input: Tensor, outputs: readonly Tensor[]): Promise<void> {
    checkTensors('allgather()', [input, ...outputs]);
    if (outputs.length !== this.worldSize) {
      throw new RangeError(`allgather(): expected ${this.worldSize} outputs, got ${outputs.length}`);
    }
    for (const o of outputs) {
      if (o.dtype !== input.dtype || o.shape.join() !== input.shape.join()) {
        throw new RangeError('allgather(): every output must have the input shape and dtype');
      }
    }
    return native.distAllgather(
      this.#group,
      input.handle,
      outputs.map((t) => t.handle),
    );
  }

  barrier(): Promise<void> {
    return native.distBarrier(this.#group);
  }

  /** A string in the group's c10d store (visible to every rank). */
  storeSet(key: string, value: string): Promise<void> {
    return native.distStoreSet(this.#group, key, value);
  }
  /** Waits (up to the timeout) for the key and returns its value. */
  storeGet(key: string): Promise<string> {
    return native.distStoreGet(this.#group, key);
  }

  /** Releases the group (its TCPStore and Gloo connections); nothing may be in flight. */
  destroy(): void {
    if (this.#id === null) return;
    native.distDestroy(this.#id);
    this.#id = null;
  }
}
