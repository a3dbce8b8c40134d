// The first torch.save format (PyTorch 0.1.x, early 2017; e.g. torchvision's original ResNet files): a tar
// archive of four files, as torch/serialization.py's legacy_load reads them:
//   sys_info  pickle of {protocol_version, little_endian, type_sizes}
//   storages  pickle(count), then per storage pickle((key, location, storage type)), its numel as a
//             little-endian int64 and its raw bytes; then pickle([(view key, root key, offset, numel)])
//   tensors   pickle(count), then per tensor pickle((key, storage key, tensor type)), ndim as an int64,
//             sizes and strides (int64 each) and the storage offset (int64)
//   pickle    the object, each tensor (or storage) replaced by the persistent id str(key)
import { ELEMENT_SIZE } from '../tensor/dtype.js';
import { FormatError } from '../util/errors.js';
import {
  checkSysInfo,
  countAt,
  type Fail,
  metadataPickle,
  type SavedObject,
  StorageRecords,
} from './legacy-records.js';
import { tarEntries } from './legacy-tar.js';
import { type StorageRef, StorageType, TensorRef, unpickleTorchAt } from './torch-pickle.js';

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const asKey = (v: unknown): string | null =>
  typeof v === 'string' ? v : Number.isSafeInteger(v) || typeof v === 'bigint' ? String(v) : null;

function countPickle(bytes: Uint8Array, what: string, fail: Fail): { count: number; end: number } {
  const { value, end } = metadataPickle(bytes, 0, `the ${what} count`, fail);
  if (!isCount(value)) throw fail(`the ${what} count is ${String(value)}, not a count`);
  return { count: value, end };
}

function readStorages(bytes: Uint8Array, fail: Fail): { refs: Map<string, StorageRef>; records: StorageRecords } {
  const refs = new Map<string, StorageRef>();
  const records = new StorageRecords(fail);
  let { count, end: at } = countPickle(bytes, 'storage', fail);
  for (let i = 0; i < count; i++) {
    const { value, end } = metadataPickle(bytes, at, `storage ${i} of ${count}`, fail);
    const [k, location, type] = Array.isArray(value) ? value : [];
    const key = asKey(k);
    if (key === null || !(type instanceof StorageType)) {
      throw fail(`storage ${i} of ${count} is not a (key, location, storage type) tuple`);
    }
    const numel = countAt(bytes, end, `the size of storage '${key}'`, fail);
    const stop = end + 8 + numel * ELEMENT_SIZE[type.dtype];
    if (stop > bytes.length) throw fail(`storage '${key}' runs past the end of the 'storages' entry (truncated)`);
    records.set(key, bytes.subarray(end + 8, stop));
    refs.set(key, { type, key, location: String(location), numel });
    at = stop;
  }
  const views = metadataPickle(bytes, at, 'the storage views', fail).value;
  if (!Array.isArray(views)) throw fail('the storage views are not a list');
  for (const view of views) {
    const [t, r, offset, numel] = Array.isArray(view) ? view : [];
    const target = asKey(t);
    const root = refs.get(asKey(r) ?? '');
    if (target === null || !root || !isCount(offset) || !isCount(numel)) {
      throw fail(`storage view ${String(t)} is malformed or refers to a missing storage ${String(r)}`);
    }
    records.setView(target, root.key, offset, numel);
    refs.set(target, { type: root.type, key: target, location: root.location, numel });
  }
  return { refs, records };
}

function readTensors(bytes: Uint8Array, storages: Map<string, StorageRef>, fail: Fail): Map<string, TensorRef> {
  const tensors = new Map<string, TensorRef>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let { count, end: at } = countPickle(bytes, 'tensor', fail);
  for (let i = 0; i < count; i++) {
    const { value, end } = metadataPickle(bytes, at, `tensor ${i} of ${count}`, fail);
    const [k, s] = Array.isArray(value) ? value : [];
    const key = asKey(k);
    if (key === null) throw fail(`tensor ${i} of ${count} is not a (key, storage key, tensor type) tuple`);
    const storage = storages.get(asKey(s) ?? '');
    if (!storage) throw fail(`tensor '${key}' refers to storage ${String(s)}, which the file does not hold`);
    if (end + 8 > bytes.length) throw fail(`tensor '${key}' metadata is cut off (truncated)`);
    const ndim = view.getInt32(end, true);
    const stop = end + 8 + 16 * ndim + 8;
    if (ndim < 0 || ndim > 64 || stop > bytes.length) throw fail(`tensor '${key}' has bad metadata (ndim ${ndim})`);
    const int = (at: number) => {
      const v = view.getBigInt64(at, true);
      if (v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw fail(`tensor '${key}' has an out-of-range size, stride or offset (${v})`);
      }
      return Number(v);
    };
    const shape = Array.from({ length: ndim }, (_, d) => int(end + 8 + 8 * d));
    const strides = Array.from({ length: ndim }, (_, d) => int(end + 8 + 8 * (ndim + d)));
    const offset = int(end + 8 + 16 * ndim);
    if (!shape.every(isCount) || !isCount(offset)) throw fail(`tensor '${key}' has a negative size or offset`);
    tensors.set(key, new TensorRef(storage, offset, shape, strides));
    at = stop;
  }
  return tensors;
}

/** Opens a torch.save tar archive; storage bytes are views into `bytes`, not copies. */
export function readLegacyTarFormat(bytes: Uint8Array, fail: Fail): SavedObject {
  const entries = tarEntries(bytes, fail);
  const entry = (name: string) => {
    const data = entries.get(name);
    if (!data) {
      throw fail(
        `tar archive without a '${name}' entry: not a torch.save file (expected sys_info, pickle, tensors, storages)`,
      );
    }
    return data;
  };
  const sysInfo = entries.get('sys_info');
  if (sysInfo) checkSysInfo(metadataPickle(sysInfo, 0, 'sys_info', fail).value, fail);
  const { refs, records } = readStorages(entry('storages'), fail);
  const tensors = readTensors(entry('tensors'), refs, fail);
  const load = (pid: unknown): unknown => {
    if (Array.isArray(pid)) {
      throw new Error('holds a pickled nn.Module (a whole model saved with torch.save(model)); expected a state_dict');
    }
    const key = asKey(pid);
    const found = key === null ? undefined : (tensors.get(key) ?? refs.get(key));
    if (!found) throw new Error(`persistent id ${String(pid)} names no tensor or storage in the file`);
    return found;
  };
  try {
    return { root: unpickleTorchAt(entry('pickle'), 0, load).value, record: (storage) => records.get(storage) };
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw fail((e as Error).message);
  }
}
