// PyTorch checkpoints written by torch.save (PyTorch >= 1.6): a zip holding <prefix>/data.pkl (the
// pickled object) and <prefix>/data/<key> (the raw little-endian bytes of each storage).
import { ELEMENT_SIZE } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { FormatError } from '../util/errors.js';
import { setOwn } from './own-record.js';
import { PyDict } from './pickle.js';
import { readFileBytes } from './read-file.js';
import { firstNonBoolByte, tensorFromStrided, viewExtent } from './tensor-bytes.js';
import { TensorRef, unpickleTorch } from './torch-pickle.js';
import { ZipArchive } from './zip.js';

const LEGACY =
  'is in the legacy torch.save format (PyTorch < 1.6), which is not supported; re-save it with a recent PyTorch: torch.save(torch.load(path), path)';

// The legacy format starts with a pickled magic number: PROTO n, LONG1 10 bytes, 0x1950a86a20f9469cfc6c.
const LEGACY_MAGIC = [0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/** Whether `bytes` start like a pre-1.6 (non-zip) torch.save file. */
export function isLegacyTorchSave(bytes: Uint8Array): boolean {
  return bytes[0] === 0x80 && LEGACY_MAGIC.every((b, i) => bytes[2 + i] === b);
}

class Checkpoint {
  readonly #archive: ZipArchive;
  readonly #prefix: string;
  readonly #records = new Map<string, Uint8Array>();
  readonly fail: (problem: string) => FormatError;

  constructor(bytes: Uint8Array, source: string) {
    this.fail = (problem) => new FormatError(source, problem);
    if (isLegacyTorchSave(bytes)) throw this.fail(LEGACY);
    if (bytes[0] !== 0x50 || bytes[1] !== 0x4b)
      throw this.fail('not a PyTorch checkpoint (expected a zip archive from torch.save)');
    this.#archive = new ZipArchive(bytes, source);
    const names = [...this.#archive.entries.keys()];
    if (names.some((n) => n.endsWith('/constants.pkl'))) {
      throw this.fail('is a TorchScript archive; load it in PyTorch and torch.save(model.state_dict(), path) instead');
    }
    const pickles = names.filter((n) => /^[^/]+\/data\.pkl$/.test(n));
    if (pickles.length !== 1) throw this.fail(`zip archive without exactly one <name>/data.pkl: not a torch.save file`);
    this.#prefix = (pickles[0] as string).slice(0, -'data.pkl'.length);
    const byteOrder = `${this.#prefix}byteorder`;
    if (this.#archive.entries.has(byteOrder)) {
      const order = new TextDecoder().decode(this.#archive.read(byteOrder)).trim();
      if (order !== 'little') throw this.fail(`storages are ${order}-endian; only little-endian is supported`);
    }
  }

  unpickle(): unknown {
    try {
      return unpickleTorch(this.#archive.read(`${this.#prefix}data.pkl`));
    } catch (e) {
      if (e instanceof FormatError) throw e;
      throw this.fail((e as Error).message);
    }
  }

  #record(key: string): Uint8Array {
    let bytes = this.#records.get(key);
    if (!bytes) {
      const name = `${this.#prefix}data/${key}`;
      if (!this.#archive.entries.has(name)) throw this.fail(`storage '${key}' is missing (no ${name} in the zip)`);
      bytes = this.#archive.read(name);
      this.#records.set(key, bytes);
    }
    return bytes;
  }

  /** Copies one tensor (a strided view of a storage record) out of the archive, after checking its bounds. */
  materialize(ref: TensorRef, name: string): Tensor {
    const { storage, shape, strides, offset } = ref;
    const dtype = storage.type.dtype;
    const size = ELEMENT_SIZE[dtype];
    const record = this.#record(storage.key);
    if (record.length < storage.numel * size) {
      throw this.fail(
        `storage '${storage.key}' has ${record.length} bytes, but its ${storage.numel} ${dtype} values need ${storage.numel * size}`,
      );
    }
    const extent = viewExtent(shape, strides, offset);
    if (strides.some((s) => s < 0) || extent > storage.numel) {
      throw this.fail(
        `tensor '${name}' (size [${shape.join(', ')}], stride [${strides.join(', ')}], offset ${offset}) reaches outside its storage of ${storage.numel} values`,
      );
    }
    if (dtype === 'bool') {
      const bad = firstNonBoolByte(record.subarray(offset, extent));
      if (bad >= 0) throw this.fail(`bool tensor '${name}' holds byte ${record[offset + bad]}; expected 0 or 1`);
    }
    return tensorFromStrided(record, dtype, shape, strides, offset);
  }
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
 * Reads the state dict in torch.save bytes (the zip format of PyTorch >= 1.6) as CPU tensors.
 *
 * - A training checkpoint whose top-level dict has a 'state_dict' (or else a 'model') dict is unwrapped
 *   to that dict; the rest (optimizer state, epoch, ...) is never turned into tensors.
 * - Nested dicts and lists are flattened: keys joined with '.', list items by index; values that are
 *   not tensors (numbers, strings, None) are skipped.
 * - When every key starts with 'module.' (nn.DataParallel), that prefix is stripped.
 * - Each tensor is its own copy: views into one storage (shared or strided) no longer share memory.
 * - The legacy non-zip format, TorchScript archives and any pickle global outside a small allow-list
 *   (OrderedDict, tensor/parameter rebuilders, typed storages) are rejected; nothing is ever executed.
 */
export function parsePth(bytes: Uint8Array, source = '.pth data'): Record<string, Tensor> {
  const checkpoint = new Checkpoint(bytes, source);
  const root = checkpoint.unpickle();
  if (!(root instanceof PyDict)) throw checkpoint.fail('holds no dict of tensors at the top level');
  const refs = new Map<string, TensorRef>();
  collectTensors(unwrap(root), '', refs, new Set());
  if (refs.size === 0) throw checkpoint.fail('holds no tensors');
  const keys = [...refs.keys()];
  const strip = keys.every((k) => k.startsWith('module.')) ? 'module.'.length : 0;
  const tensors: Record<string, Tensor> = {};
  try {
    for (const [key, ref] of refs) setOwn(tensors, key.slice(strip), checkpoint.materialize(ref, key));
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
