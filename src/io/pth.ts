// PyTorch checkpoints written by torch.save, in any of its three formats: the zip of PyTorch >= 1.6 (a
// <prefix>/data.pkl holding the pickled object and <prefix>/data/<key> holding the raw little-endian bytes
// of each storage), and the two legacy formats (legacy-pickle-format.ts, legacy-tar-format.ts).
import { ELEMENT_SIZE } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { FormatError } from '../util/errors.js';
import { isLegacyPickleFormat, readLegacyPickleFormat } from './legacy-pickle-format.js';
import type { Fail, SavedObject } from './legacy-records.js';
import { isTar } from './legacy-tar.js';
import { readLegacyTarFormat } from './legacy-tar-format.js';
import { setOwn } from './own-record.js';
import { PyDict } from './pickle.js';
import { readFileBytes } from './read-file.js';
import { firstNonBoolByte, tensorFromStrided, viewExtent } from './tensor-bytes.js';
import { ScriptObject, type StorageRef, TensorRef, unpickleTorch, unpickleTorchScript } from './torch-pickle.js';
import { ZipArchive } from './zip.js';

/** 'pickle' or 'tar' for the two pre-1.6 torch.save formats, null for anything else. */
export function legacyTorchFormat(bytes: Uint8Array): 'pickle' | 'tar' | null {
  if (isLegacyPickleFormat(bytes)) return 'pickle';
  return isTar(bytes) ? 'tar' : null;
}

/** Whether `bytes` start like a pre-1.6 (non-zip) torch.save file, in either legacy format. */
export function isLegacyTorchSave(bytes: Uint8Array): boolean {
  return legacyTorchFormat(bytes) !== null;
}

function readZipFormat(bytes: Uint8Array, source: string, fail: Fail): SavedObject {
  const archive = new ZipArchive(bytes, source);
  const names = [...archive.entries.keys()];
  const script = names.some((n) => n.endsWith('/constants.pkl'));
  const pickles = names.filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pickles.length !== 1) throw fail(`zip archive without exactly one <name>/data.pkl: not a torch.save file`);
  const prefix = (pickles[0] as string).slice(0, -'data.pkl'.length);
  const byteOrder = `${prefix}byteorder`;
  if (archive.entries.has(byteOrder)) {
    const order = new TextDecoder().decode(archive.read(byteOrder)).trim();
    if (order !== 'little') throw fail(`storages are ${order}-endian; only little-endian is supported`);
  }
  let root: unknown;
  try {
    const pickle = archive.read(`${prefix}data.pkl`);
    root = script ? scriptStateDict(unpickleTorchScript(pickle), fail) : unpickleTorch(pickle);
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw fail((e as Error).message);
  }
  const records = new Map<string, Uint8Array>();
  const record = (storage: StorageRef): Uint8Array => {
    let bytes = records.get(storage.key);
    if (!bytes) {
      const name = `${prefix}data/${storage.key}`;
      if (!archive.entries.has(name)) throw fail(`storage '${storage.key}' is missing (no ${name} in the zip)`);
      bytes = archive.read(name);
      records.set(storage.key, bytes);
    }
    return bytes;
  };
  return { root, record };
}

/**
 * A TorchScript module's parameters and buffers as a flat state dict, named as module.state_dict() names
 * them (submodule attributes joined with '.'); its code (code/, constants.pkl) is never read.
 */
function scriptStateDict(root: unknown, fail: Fail): PyDict {
  if (!(root instanceof ScriptObject)) throw fail('is a TorchScript archive without a module in its data.pkl');
  const out = new PyDict();
  const seen = new Set<ScriptObject>();
  const walk = (obj: ScriptObject, prefix: string) => {
    if (seen.has(obj)) return;
    seen.add(obj);
    if (!(obj.attributes instanceof PyDict)) return;
    for (const [key, value] of obj.attributes.items) {
      if (typeof key !== 'string') continue;
      if (value instanceof TensorRef) out.items.set(`${prefix}${key}`, value);
      else if (value instanceof ScriptObject) walk(value, `${prefix}${key}.`);
    }
  };
  walk(root, '');
  return out;
}

function open(bytes: Uint8Array, source: string, fail: Fail): SavedObject {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return readZipFormat(bytes, source, fail);
  if (isLegacyPickleFormat(bytes)) return readLegacyPickleFormat(bytes, fail);
  if (isTar(bytes)) return readLegacyTarFormat(bytes, fail);
  throw fail(
    'not a PyTorch checkpoint (expected a torch.save file: a zip archive, or the pre-1.6 pickle or tar format)',
  );
}

/** Copies one tensor (a strided view of a storage record) out of the file, after checking its bounds. */
function materialize(saved: SavedObject, ref: TensorRef, name: string, fail: Fail): Tensor {
  const { storage, shape, strides, offset } = ref;
  const dtype = storage.type.dtype;
  const size = ELEMENT_SIZE[dtype];
  const record = saved.record(storage);
  if (record.length < storage.numel * size) {
    throw fail(
      `storage '${storage.key}' has ${record.length} bytes, but its ${storage.numel} ${dtype} values need ${storage.numel * size}`,
    );
  }
  const extent = viewExtent(shape, strides, offset);
  if (strides.some((s) => s < 0) || extent > storage.numel) {
    throw fail(
      `tensor '${name}' (size [${shape.join(', ')}], stride [${strides.join(', ')}], offset ${offset}) reaches outside its storage of ${storage.numel} values`,
    );
  }
  if (dtype === 'bool') {
    const bad = firstNonBoolByte(record.subarray(offset, extent));
    if (bad >= 0) throw fail(`bool tensor '${name}' holds byte ${record[offset + bad]}; expected 0 or 1`);
  }
  return tensorFromStrided(record, dtype, shape, strides, offset);
}

/** Every tensor under `value`, keyed by its path of dict keys and list indices joined with '.'. */
function collectTensors(value: unknown, prefix: string, out: Map<string, TensorRef>, seen: Set<unknown>): void {
  if (value instanceof TensorRef) {
    out.set(prefix, value);
    return;
  }
  if (typeof value !== 'object' || value === null || seen.has(value)) return;
  seen.add(value);
  const entries = value instanceof PyDict ? value.items.entries() : Array.isArray(value) ? value.entries() : null;
  if (!entries) return;
  for (const [key, child] of entries) {
    if (typeof key === 'string' || typeof key === 'number')
      collectTensors(child, prefix ? `${prefix}.${key}` : `${key}`, out, seen);
  }
}

/** The dict that holds the weights: the checkpoint's 'state_dict' or 'model' entry when it has one. */
function unwrap(root: PyDict): PyDict {
  for (const key of ['state_dict', 'model']) {
    const inner = root.items.get(key);
    if (inner instanceof PyDict) return inner;
  }
  return root;
}

/**
 * Reads the state dict in torch.save bytes as CPU tensors: the zip format of PyTorch >= 1.6, the pickle
 * format of PyTorch 0.1.10-1.5 and the tar format of PyTorch 0.1.x (torchvision's 2017 ResNet files).
 *
 * - A training checkpoint whose top-level dict has a 'state_dict' (or else a 'model') dict is unwrapped
 *   to that dict; the rest (optimizer state, epoch, ...) is never turned into tensors.
 * - Nested dicts and lists are flattened: keys joined with '.', list items by index; values that are
 *   not tensors (numbers, strings, None) are skipped.
 * - When every key starts with 'module.' (nn.DataParallel), that prefix is stripped.
 * - Each tensor is its own copy: views into one storage (shared or strided) no longer share memory.
 * - A TorchScript archive (torch.jit.save: OpenAI's CLIP .pt files) gives its module's parameters and
 *   buffers named as state_dict() names them; its classes become plain attribute holders and its code is
 *   never read.
 * - Files from big-endian machines and any pickle global outside a small allow-list (OrderedDict,
 *   tensor/parameter rebuilders, typed storages) are rejected; nothing is ever executed, so a whole
 *   pickled model (torch.save(model)) is refused, naming its class.
 */
export function parsePth(bytes: Uint8Array, source = '.pth data'): Record<string, Tensor> {
  const fail = (problem: string) => new FormatError(source, problem);
  const saved = open(bytes, source, fail);
  const root = saved.root;
  if (!(root instanceof PyDict)) throw fail('holds no dict of tensors at the top level (expected a state_dict)');
  const refs = new Map<string, TensorRef>();
  collectTensors(unwrap(root), '', refs, new Set());
  if (refs.size === 0) throw fail('holds no tensors');
  const keys = [...refs.keys()];
  const strip = keys.every((k) => k.startsWith('module.')) ? 'module.'.length : 0;
  const tensors: Record<string, Tensor> = {};
  try {
    for (const [key, ref] of refs) setOwn(tensors, key.slice(strip), materialize(saved, ref, key, fail));
  } catch (e) {
    for (const t of Object.values(tensors)) t.dispose();
    throw e;
  }
  return tensors;
}

/** Reads the state dict of a torch.save file; see parsePth for what is unwrapped and rejected. */
export function loadPth(path: string): Record<string, Tensor> {
  return parsePth(readFileBytes(path), path);
}
