// Which rank failed, in a job of more than two ranks (Gloo's errors name an address, not a rank): every
// rank keeps a heartbeat in the store, "<state> <collectives entered> <beat>", rewritten every second.
// On a failed collective a survivor marks itself "stopping", reads every heartbeat twice a few beats
// apart and names the ranks whose beat stood still (died) or that never entered this collective (hung).
import type { ProcessGroup } from '../tensor/process-group.js';

export const HEARTBEAT_MS = 1000;
const key = (rank: number) => `normsoftmax/alive/${rank}`;

interface Beat {
  stopping: boolean;
  entered: number;
  beat: number;
}

function parseBeat(value: string | null): Beat | null {
  if (value === null) return null;
  const [state, entered, beat] = value.split(' ');
  if (entered === undefined || beat === undefined) return null;
  return { stopping: state === 'stopping', entered: Number(entered), beat: Number(beat) };
}

/**
 * The ranks to blame, from two readings of every rank's heartbeat taken a few beats apart (null: the
 * key could not be read): a rank that is not stopping itself and whose beat did not move, or whose
 * beat moved but that entered fewer collectives than this rank. Empty when no rank can be named.
 */
export function failedRanks(
  me: number,
  myEntered: number,
  before: readonly (string | null)[],
  after: readonly (string | null)[],
): number[] {
  const out: number[] = [];
  for (let r = 0; r < after.length; r++) {
    if (r === me) continue;
    const a = parseBeat(before[r] ?? null);
    const b = parseBeat(after[r] ?? null);
    if (b === null) {
      out.push(r);
      continue;
    }
    if (b.stopping) continue;
    if (a !== null && a.beat === b.beat) out.push(r);
    else if (b.entered < myEntered) out.push(r);
  }
  return out;
}

export class Liveness {
  #entered = 0;
  #beat = 0;
  #stopping = false;
  #timer: NodeJS.Timeout | null = null;
  readonly #pg: ProcessGroup;

  constructor(pg: ProcessGroup) {
    this.#pg = pg;
    this.#write();
    this.#timer = setInterval(() => this.#write(), HEARTBEAT_MS);
    this.#timer.unref();
  }

  /** Counts a collective this rank entered. */
  enter(): void {
    this.#entered++;
  }

  #write(): void {
    const value = `${this.#stopping ? 'stopping' : 'alive'} ${this.#entered} ${++this.#beat}`;
    try {
      this.#pg.storeSet(key(this.#pg.rank), value).catch(() => {});
    } catch {
      // the group was destroyed: nothing to report to any more
      this.stop();
    }
  }

  /** After a failed collective: the ranks that died or hung (empty when none can be named). */
  async failedRanks(): Promise<number[]> {
    this.#stopping = true;
    this.#write();
    const read = () =>
      Promise.all(
        Array.from({ length: this.#pg.worldSize }, (_, r) =>
          withTimeout(this.#pg.storeGet(key(r)), 2 * HEARTBEAT_MS).catch(() => null),
        ),
      );
    try {
      const before = await read();
      // the store itself is gone: its host (rank 0, unless torchrun's agent hosts it) died
      if (before.every((v) => v === null)) return this.#pg.rank === 0 ? [] : [0];
      await new Promise((r) => setTimeout(r, 2.5 * HEARTBEAT_MS));
      return failedRanks(this.#pg.rank, this.#entered, before, await read());
    } catch {
      return [];
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
