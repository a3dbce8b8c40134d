// The in-memory delta of a live index over its base (the generation files, or the Lance table version the
// manifest names): the items put since the base was written, each in a slot, searched exactly beside the
// base; and tombstones, the base rows that a put replaced or a delete removed, which searches of the base
// leave out. Applying the log's writes in order gives the same delta wherever it is built (the server, a
// read-only reader, a restarted search worker).
import type { FilterFields } from '../filter.js';
import type { ItemMeta } from '../types.js';
import type { LiveOp } from './wal-format.js';

/** What the delta needs of its base. */
export interface BaseRows {
  readonly n: number;
  rowOf(id: string): number | undefined;
}

export interface DeltaEntry {
  slot: number;
  item: ItemMeta;
  /** Unit length, dim values. */
  vector: Float32Array;
  seq: number;
}

/** A change of the delta for the search worker, applied in order (a worker ignores one it already has). */
export interface DeltaChange {
  version: number;
  steps: DeltaStep[];
}

export type DeltaStep =
  | { t: 'hide'; row: number }
  | { t: 'put'; slot: number; vector: Float32Array; fields: FilterFields }
  | { t: 'drop'; slot: number };

/** The whole delta, for a worker that starts (or starts again). */
export interface DeltaState {
  version: number;
  hidden: Int32Array;
  puts: { slot: number; vector: Float32Array; fields: FilterFields }[];
}

export const fieldsOf = (it: ItemMeta): FilterFields => ({
  id: it.id,
  path: it.path,
  label: it.label,
  ...(it.meta !== undefined ? { meta: it.meta } : {}),
});

export class Delta {
  readonly base: BaseRows;
  /** Base rows replaced or deleted. */
  readonly hidden = new Set<number>();
  readonly #entries = new Map<string, DeltaEntry>();
  #nextSlot = 0;
  #version = 0;

  constructor(base: BaseRows) {
    this.base = base;
  }

  get version(): number {
    return this.#version;
  }

  /** Items in the index: the base's not hidden, and the delta's. */
  get count(): number {
    return this.base.n - this.hidden.size + this.#entries.size;
  }

  /** How large the delta is (puts and tombstones): what triggers a compaction. */
  get size(): number {
    return this.#entries.size + this.hidden.size;
  }

  get entries(): IterableIterator<DeltaEntry> {
    return this.#entries.values();
  }

  entry(id: string): DeltaEntry | undefined {
    return this.#entries.get(id);
  }

  /** Whether the item is in the index (the delta's, or the base's and not hidden). */
  has(id: string): boolean {
    if (this.#entries.has(id)) return true;
    const row = this.base.rowOf(id);
    return row !== undefined && !this.hidden.has(row);
  }

  /** Applies writes in sequence order; returns the change for the search worker. */
  apply(ops: readonly LiveOp[]): DeltaChange {
    const steps: DeltaStep[] = [];
    for (const op of ops) {
      const id = op.kind === 'put' ? op.item.id : op.id;
      const before = this.#entries.get(id);
      if (before) {
        this.#entries.delete(id);
        steps.push({ t: 'drop', slot: before.slot });
      } else {
        const row = this.base.rowOf(id);
        if (row !== undefined && !this.hidden.has(row)) {
          this.hidden.add(row);
          steps.push({ t: 'hide', row });
        }
      }
      if (op.kind === 'put') {
        const slot = this.#nextSlot++;
        this.#entries.set(id, { slot, item: op.item, vector: op.vector, seq: op.seq });
        steps.push({ t: 'put', slot, vector: op.vector, fields: fieldsOf(op.item) });
      }
    }
    this.#version += 1;
    return { version: this.#version, steps };
  }

  state(): DeltaState {
    return {
      version: this.#version,
      hidden: Int32Array.from(this.hidden),
      puts: Array.from(this.#entries.values(), (e) => ({ slot: e.slot, vector: e.vector, fields: fieldsOf(e.item) })),
    };
  }
}
