// The torch.save format of PyTorch 0.1.10 to 1.5 (and of `_use_new_zipfile_serialization=False` since):
// five things back to back in one file, as torch/serialization.py's _legacy_save writes them:
//   pickle(MAGIC_NUMBER), pickle(1001), pickle(sys_info),
//   the object pickled with persistent ids ('storage', storage type, key, location, numel, view),
//   pickle(sorted storage keys), then per key: numel as a little-endian int64 and the storage's raw bytes.
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
import { type StorageRef, StorageType, unpickleTorchAt } from './torch-pickle.js';

const MAGIC_NUMBER = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001;

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const asKey = (v: unknown): string | null =>
  typeof v === 'string' ? v : Number.isSafeInteger(v) || typeof v === 'bigint' ? String(v) : null;

/** The persistent ids of the object pickle: each storage once, a view storage as a range of its root. */
class Storages {
  readonly refs = new Map<string, StorageRef>();

  constructor(
    readonly records: StorageRecords,
    readonly fail: Fail,
  ) {}

  load(pid: unknown): StorageRef {
    if (!Array.isArray(pid)) throw new Error(`persistent id ${String(pid)} is not a tuple`);
    if (pid[0] === 'module') {
      throw new Error('holds a pickled nn.Module (a whole model saved with torch.save(model)); expected a state_dict');
    }
    const [kind, type, rootKey, location, numel, view] = pid;
    const key = asKey(rootKey);
    if (kind !== 'storage' || !(type instanceof StorageType) || key === null || !isCount(numel)) {
      throw new Error(`unsupported persistent id ${String(kind)}`);
    }
    let root = this.refs.get(key);
    if (!root) {
      root = { type, key, location: String(location), numel };
      this.refs.set(key, root);
    } else if (root.type.dtype !== type.dtype) {
      throw new Error(`storage '${key}' is read as both ${root.type.dtype} and ${type.dtype}`);
    }
    if (view === null || view === undefined) return root;
    const [viewKey, offset, size] = Array.isArray(view) ? view : [];
    const vkey = asKey(viewKey);
    if (vkey === null || !isCount(offset) || !isCount(size)) throw new Error(`malformed view of storage '${key}'`);
    this.records.setView(vkey, key, offset, size);
    return { type, key: vkey, location: root.location, numel: size };
  }
}

/** Whether `bytes` start with the pickled magic number (PROTO n, LONG1 10 bytes 0x1950a86a20f9469cfc6c). */
export function isLegacyPickleFormat(bytes: Uint8Array): boolean {
  const magic = [0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
  return bytes[0] === 0x80 && magic.every((b, i) => bytes[2 + i] === b);
}

/** Opens a file in the legacy pickle format; storage bytes are views into `bytes`, not copies. */
export function readLegacyPickleFormat(bytes: Uint8Array, fail: Fail): SavedObject {
  const magic = metadataPickle(bytes, 0, 'the magic number', fail);
  if (magic.value !== MAGIC_NUMBER) throw fail('does not start with torch.save magic number: not a torch.save file');
  const protocol = metadataPickle(bytes, magic.end, 'the protocol version', fail);
  if (protocol.value !== PROTOCOL_VERSION) {
    throw fail(`torch.save protocol version ${String(protocol.value)}; expected ${PROTOCOL_VERSION}`);
  }
  const sysInfo = metadataPickle(bytes, protocol.end, 'sys_info', fail);
  checkSysInfo(sysInfo.value, fail);

  const records = new StorageRecords(fail);
  const storages = new Storages(records, fail);
  let object: { value: unknown; end: number };
  try {
    object = unpickleTorchAt(bytes, sysInfo.end, (pid) => storages.load(pid));
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw fail((e as Error).message);
  }
  const keys = metadataPickle(bytes, object.end, 'the list of storage keys', fail);
  if (!Array.isArray(keys.value) || keys.value.some((k) => asKey(k) === null)) {
    throw fail(`the list of storage keys at byte ${object.end} is not a list of keys`);
  }
  let at = keys.end;
  for (const k of keys.value) {
    const key = asKey(k) as string;
    const ref = storages.refs.get(key);
    if (!ref) throw fail(`storage '${key}' has data in the file but nothing refers to it`);
    const numel = countAt(bytes, at, `the size of storage '${key}'`, fail);
    if (numel !== ref.numel) {
      throw fail(`storage '${key}' has ${numel} values in the file, but the pickle says ${ref.numel}`);
    }
    const end = at + 8 + numel * ELEMENT_SIZE[ref.type.dtype];
    if (end > bytes.length) {
      throw fail(`storage '${key}' (${numel} ${ref.type.dtype} values) runs past the end of the file (truncated)`);
    }
    records.set(key, bytes.subarray(at + 8, end));
    at = end;
  }
  return { root: object.value, record: (storage) => records.get(storage) };
}
