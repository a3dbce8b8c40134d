// A worker thread that is started again when it dies. Calls are messages with an id; the worker answers
// each with the same id. When the thread exits or throws without being asked to close, the calls in flight
// fail (the caller answers 503), a line is logged, and a new thread is started and initialised (e.g. the
// index opened again); calls made meanwhile wait for it. A thread that keeps dying (more than maxRestarts
// within windowMs) is given up on: the part is 'failed' and every call fails at once.
// The thread keeps the process alive only while a call is pending, so a command ends when its work does.
import type { Worker } from 'node:worker_threads';
import { FailureError } from './errors.js';

export type PartState = 'starting' | 'ok' | 'restarting' | 'failed';

/** What /health says of one part of a service. */
export interface PartHealth {
  state: PartState;
  /** Restarts since the part was created. */
  restarts: number;
  /** Why the last thread died, when one did. */
  lastExit: string | null;
}

/** A reply's id and outcome; undefined for a message that is not a reply. */
export type Settled = { id: number; value: unknown } | { id: number; error: Error };

export interface WorkerSpec {
  /** Names the part in logs and errors: "search worker". */
  name: string;
  /** Starts a thread; `restart` is true for every thread after the first. */
  create: (restart: boolean) => Worker;
  /** Reads a message from the thread as the answer to a call. */
  settle: (message: unknown) => Settled | undefined;
  /** The thread announces that it is ready with a reply of id 0 (its value is kept as `readyValue`). */
  handshake?: boolean;
  /** Runs on every new thread before any call reaches it (e.g. sends the index to open). */
  init?: (call: (message: object, transfer?: readonly ArrayBuffer[]) => Promise<unknown>) => Promise<void>;
  log?: (line: string) => void;
  maxRestarts?: number;
  windowMs?: number;
}

/** A call that failed because its thread died (or the part was given up on): the caller may retry later. */
export class WorkerExitError extends FailureError {
  override name = 'WorkerExitError';
  override readonly httpStatus = 503;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class SupervisedWorker {
  readonly #spec: WorkerSpec;
  readonly #pending = new Map<number, Pending>();
  readonly #restartTimes: number[] = [];
  #worker: Worker;
  #ready: Promise<void>;
  #state: PartState = 'starting';
  #restarts = 0;
  #lastExit: string | null = null;
  #closed = false;
  #failure: Error | null = null;
  #next = 1;
  #readyValue: unknown;

  /** Starts the first thread; await `started` before relying on it (it rejects when the start fails). */
  constructor(spec: WorkerSpec) {
    this.#spec = spec;
    this.#worker = this.#spawn(false);
    this.#ready = this.#initialise();
    // A failed first start is reported through `started`; later calls see it too.
    this.#ready.catch(() => undefined);
  }

  /** Resolves when the first thread is ready; rejects with its start error (the worker is then closed). */
  get started(): Promise<void> {
    return this.#ready;
  }

  /** The value of the thread's ready message (handshake), e.g. the model's dimension. */
  get readyValue(): unknown {
    return this.#readyValue;
  }

  health(): PartHealth {
    return { state: this.#state, restarts: this.#restarts, lastExit: this.#lastExit };
  }

  /** Sends a call once a thread is ready; rejects with the thread's error, or a FailureError when it died. */
  async call(message: object, transfer: readonly ArrayBuffer[] = []): Promise<unknown> {
    if (this.#closed) throw new WorkerExitError(`the ${this.#spec.name} is closed`);
    // A thread that died while this call waited has a new ready promise: wait for that one.
    for (let ready = this.#ready; ; ready = this.#ready) {
      await ready;
      if (ready === this.#ready) break;
    }
    return this.#send(message, transfer);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#failAll(new WorkerExitError(`the ${this.#spec.name} is closed`));
    await this.#worker.terminate();
  }

  #send(message: object, transfer: readonly ArrayBuffer[]): Promise<unknown> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.ref();
      this.#worker.postMessage({ ...message, id }, transfer as ArrayBuffer[]);
    });
  }

  #spawn(restart: boolean): Worker {
    const worker = this.#spec.create(restart);
    worker.unref();
    worker.on('message', (m: unknown) => {
      if (worker !== this.#worker) return;
      const s = this.#spec.settle(m);
      if (!s) return;
      const p = this.#pending.get(s.id);
      if (!p) return;
      this.#pending.delete(s.id);
      if (this.#pending.size === 0) worker.unref();
      if ('error' in s) p.reject(s.error);
      else p.resolve(s.value);
    });
    worker.on('error', (e) => this.#died(worker, `failed: ${e.message.split('\n')[0]}`));
    worker.on('exit', (code) => this.#died(worker, `exited (code ${code})`));
    return worker;
  }

  async #initialise(): Promise<void> {
    const handshake = this.#spec.handshake
      ? new Promise<unknown>((resolve, reject) => {
          this.#pending.set(0, { resolve, reject });
          this.#worker.ref();
        })
      : null;
    try {
      if (handshake) this.#readyValue = await handshake;
      await this.#spec.init?.((message, transfer = []) => this.#send(message, transfer));
    } catch (e) {
      if (this.#state === 'starting') {
        // The first start failed: nothing to supervise (a bad checkpoint, say); the caller reports it.
        this.#closed = true;
        this.#state = 'failed';
      }
      // A restarted thread that cannot initialise is ended; its exit counts as another death (#died).
      await this.#worker.terminate();
      throw e;
    }
    if (this.#state !== 'failed') this.#state = 'ok';
  }

  #failAll(e: Error): void {
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
  }

  #died(worker: Worker, how: string): void {
    if (worker !== this.#worker || this.#closed) return;
    this.#closed = this.#state === 'starting';
    const name = this.#spec.name;
    this.#lastExit = how;
    this.#failAll(new WorkerExitError(`the ${name} ${how}`));
    if (this.#closed) return; // the first start: #initialise reports it
    const now = Date.now();
    const windowMs = this.#spec.windowMs ?? 60_000;
    while (this.#restartTimes.length > 0 && now - (this.#restartTimes[0] as number) > windowMs)
      this.#restartTimes.shift();
    if (this.#restartTimes.length >= (this.#spec.maxRestarts ?? 5)) {
      this.#state = 'failed';
      this.#failure = new WorkerExitError(
        `the ${name} ${how} and was restarted ${this.#restartTimes.length} times within ${windowMs / 1000} s: giving up`,
      );
      this.#ready = Promise.reject(this.#failure);
      this.#ready.catch(() => undefined);
      this.#spec.log?.(this.#failure.message);
      return;
    }
    this.#restartTimes.push(now);
    this.#restarts += 1;
    this.#state = 'restarting';
    this.#spec.log?.(`the ${name} ${how}: restarting it`);
    this.#worker = this.#spawn(true);
    this.#ready = this.#initialise().then(
      () => this.#spec.log?.(`the ${name} is running again (restart ${this.#restarts})`),
      (e: unknown) => {
        this.#spec.log?.(`the ${name} could not start again: ${e instanceof Error ? e.message : String(e)}`);
        throw e;
      },
    );
    this.#ready.catch(() => undefined);
  }
}
