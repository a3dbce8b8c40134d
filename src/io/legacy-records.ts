// What the two pre-1.6 torch.save formats (legacy-pickle-format.ts, legacy-tar-format.ts) share: the
// small metadata pickles between the records, the little-endian int64 counts, and the sys_info dict.
import { ELEMENT_SIZE } from '../tensor/dtype.js';
import type { FormatError } from '../util/errors.js';
import { PyDict, unpickleAt } from './pickle.js';
import { findGlobal, type StorageRef } from './torch-pickle.js';

/** A torch.save file opened for reading: its object, and the raw bytes of each storage it refers to. */
export interface SavedObject {
  /** The unpickled object, with TensorRefs where the tensors were. */
  root: unknown;
  /** The little-endian bytes of a storage the object refers to (at least numel elements, checked later). */
  record(storage: StorageRef): Uint8Array;
}

export type Fail = (problem: string) => FormatError;

/** The tensor classes (torch.FloatTensor, torch.cuda.LongTensor, ...) the tar format names per tensor. */
export class TensorType {
  constructor(readonly name: string) {}
}

function metadataGlobal(module: string, name: string): unknown {
  if ((module === 'torch' || module === 'torch.cuda') && /^[A-Za-z0-9]+Tensor$/.test(name)) {
    return new TensorType(`${module}.${name}`);
  }
  return findGlobal(module, name);
}

/**
 * One metadata pickle (a count, a key list, a (key, location, storage type) tuple, ...) at `at`: only
 * storage and tensor classes may appear in it, and no persistent ids.
 */
export function metadataPickle(
  bytes: Uint8Array,
  at: number,
  what: string,
  fail: Fail,
): { value: unknown; end: number } {
  try {
    return unpickleAt(bytes, at, {
      findGlobal: metadataGlobal,
      persistentLoad: () => {
        throw new Error('unexpected persistent id');
      },
    });
  } catch (e) {
    throw fail(`${what} at byte ${at} is unreadable (${(e as Error).message})`);
  }
}

/** The little-endian int64 at `at`, which must be a count that fits in the rest of the data. */
export function countAt(bytes: Uint8Array, at: number, what: string, fail: Fail): number {
  if (at + 8 > bytes.length) throw fail(`${what} at byte ${at} is cut off (truncated file)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, 8);
  const value = view.getBigInt64(0, true);
  if (value < 0n || value > BigInt(bytes.length)) throw fail(`${what} at byte ${at} is ${value}, not a valid count`);
  return Number(value);
}

/**
 * Checks the sys_info dict torch.save wrote beside the data. Only files from little-endian machines are
 * read: every file PyTorch publishes is one, and how a big-endian one laid out its counts changed between
 * versions (PyTorch itself ignores the flag and would misread such a file).
 */
export function checkSysInfo(info: unknown, fail: Fail): void {
  if (!(info instanceof PyDict)) throw fail('sys_info is not a dict: not a torch.save file');
  if (info.items.get('little_endian') === false) {
    throw fail(
      'was written on a big-endian machine (sys_info little_endian is False); only little-endian files can be read',
    );
  }
}

/** The bytes of a storage, or of a view storage (an element range of a root storage, older files only). */
export class StorageRecords {
  readonly #records = new Map<string, Uint8Array>();
  readonly #views = new Map<string, { root: string; offset: number; numel: number }>();

  constructor(readonly fail: Fail) {}

  set(key: string, bytes: Uint8Array): void {
    this.#records.set(key, bytes);
  }

  setView(key: string, root: string, offset: number, numel: number): void {
    this.#views.set(key, { root, offset, numel });
  }

  has(key: string): boolean {
    return this.#records.has(key) || this.#views.has(key);
  }

  get(storage: StorageRef): Uint8Array {
    const size = byteSize(storage);
    const view = this.#views.get(storage.key);
    if (view) {
      const root = this.#records.get(view.root);
      if (!root) throw this.fail(`storage view '${storage.key}' refers to storage '${view.root}', which is missing`);
      const start = view.offset * size;
      const end = start + view.numel * size;
      if (end > root.length) {
        throw this.fail(
          `storage view '${storage.key}' (${view.numel} values from ${view.offset}) reaches outside storage '${view.root}'`,
        );
      }
      return root.subarray(start, end);
    }
    const record = this.#records.get(storage.key);
    if (!record) throw this.fail(`storage '${storage.key}' is referenced but its data is missing from the file`);
    return record;
  }
}

const byteSize = (storage: StorageRef) => ELEMENT_SIZE[storage.type.dtype];
