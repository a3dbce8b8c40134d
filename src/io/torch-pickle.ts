// The allow-list of pickle globals that torch.save writes for state dicts, and the lazy tensor and
// storage references they build; nothing here reads tensor data (see pth.ts).
import type { DType } from '../tensor/dtype.js';
import { PyDict, unpickleAt } from './pickle.js';

/** The class object of a typed storage, e.g. torch.FloatStorage. */
export class StorageType {
  constructor(
    readonly name: string,
    readonly dtype: DType,
  ) {}
}

/** A storage named by a persistent id: its bytes are the archive record data/<key>. */
export interface StorageRef {
  type: StorageType;
  key: string;
  location: string;
  numel: number;
}

/** A tensor as torch._utils._rebuild_tensor_v2 describes it: a strided view of a storage. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly strides: number[],
  ) {}
}

/** The tensor classes _rebuild_from_type_v2 may name. */
class TensorClass {
  constructor(readonly name: string) {}
}

const STORAGE_DTYPES: Readonly<Record<string, DType>> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isInt = (v: unknown): v is number => Number.isSafeInteger(v);

function rebuildTensor(args: unknown[]): TensorRef {
  const [storage, offset, shape, strides] = args;
  if (!storage || typeof storage !== 'object' || !((storage as StorageRef).type instanceof StorageType)) {
    throw new Error('_rebuild_tensor_v2 without a storage');
  }
  if (!isCount(offset)) throw new Error(`_rebuild_tensor_v2 with storage offset ${String(offset)}`);
  if (!Array.isArray(shape) || !shape.every(isCount)) throw new Error(`_rebuild_tensor_v2 with size ${String(shape)}`);
  if (!Array.isArray(strides) || strides.length !== shape.length || !strides.every(isInt)) {
    throw new Error(`_rebuild_tensor_v2 with stride ${String(strides)} for size (${shape.join(', ')})`);
  }
  return new TensorRef(storage as StorageRef, offset, shape, strides);
}

function tensorArgument(args: unknown[], what: string): TensorRef {
  if (!(args[0] instanceof TensorRef)) throw new Error(`${what} of something that is not a tensor`);
  return args[0];
}

function rebuildFromType(args: unknown[]): unknown {
  const [fn, type, fnArgs] = args;
  if (typeof fn !== 'function' || !(type instanceof TensorClass) || !Array.isArray(fnArgs)) {
    throw new Error('_rebuild_from_type_v2 with unexpected arguments');
  }
  return fn(fnArgs);
}

const GLOBALS: Readonly<Record<string, unknown>> = {
  'collections.OrderedDict': (args: unknown[]) => {
    const dict = new PyDict();
    if (Array.isArray(args[0])) for (const pair of args[0]) if (Array.isArray(pair)) dict.items.set(pair[0], pair[1]);
    return dict;
  },
  'torch._utils._rebuild_tensor_v2': rebuildTensor,
  'torch._utils._rebuild_tensor': rebuildTensor,
  'torch._utils._rebuild_parameter': (args: unknown[]) => tensorArgument(args, '_rebuild_parameter'),
  'torch._utils._rebuild_parameter_with_state': (args: unknown[]) =>
    tensorArgument(args, '_rebuild_parameter_with_state'),
  'torch._tensor._rebuild_from_type_v2': rebuildFromType,
  'torch.Tensor': new TensorClass('torch.Tensor'),
  'torch.nn.parameter.Parameter': new TensorClass('torch.nn.parameter.Parameter'),
  'torch.Size': (args: unknown[]) => args[0],
  // Protocol 2 pickles Python 3 bytes as _codecs.encode(text, 'latin1').
  '_codecs.encode': (args: unknown[]) => {
    if (typeof args[0] !== 'string') throw new Error('_codecs.encode of something that is not a string');
    return Uint8Array.from(args[0], (c) => c.charCodeAt(0) & 0xff);
  },
  ...Object.fromEntries(
    Object.entries(STORAGE_DTYPES).map(([name, dtype]) => [`torch.${name}`, new StorageType(name, dtype)]),
  ),
  // Files saved before storage types were normalised name the CUDA class; its data is read to the CPU.
  ...Object.fromEntries(
    Object.entries(STORAGE_DTYPES).map(([name, dtype]) => [`torch.cuda.${name}`, new StorageType(name, dtype)]),
  ),
};

/** What an allowed pickle global stands for; throws naming the global for anything else. */
export function findGlobal(module: string, name: string): unknown {
  const key = `${module}.${name}`;
  const found = Object.hasOwn(GLOBALS, key) ? GLOBALS[key] : undefined;
  if (found === undefined && (module === 'torch' || module === 'torch.cuda') && name.endsWith('Storage')) {
    throw new Error(
      `tensors stored as torch.${name} are not supported (supported: ${Object.keys(STORAGE_DTYPES).join(', ')})`,
    );
  }
  if (found === undefined) {
    throw new Error(
      `pickle global '${key}' is not allowed: only state dicts of tensors, dicts, lists, numbers and strings can be read (save model.state_dict() instead of the model)`,
    );
  }
  return found;
}

/**
 * An object of a TorchScript archive's data.pkl (a scripted or traced module, `__torch__.<module>.<Class>`):
 * only its class name and the attribute dict BUILD gives it (parameters, buffers, submodules, flags).
 */
export class ScriptObject extends PyDict {
  constructor(readonly className: string) {
    super();
  }
}

// What else torch.jit's pickler writes for module attributes: typed lists (build_intlist, ...) and type tags,
// all plain data.
const SCRIPT_LIST_BUILDERS = new Set([
  'build_intlist',
  'build_floatlist',
  'build_doublelist',
  'build_boollist',
  'build_tensorlist',
  'build_genericlist',
  'restore_type_tag',
]);

/** findGlobal for TorchScript data.pkl: its module classes become ScriptObjects, nothing runs. */
export function findScriptGlobal(module: string, name: string): unknown {
  if (module === '__torch__' || module.startsWith('__torch__.')) {
    const className = `${module}.${name}`;
    return () => new ScriptObject(className);
  }
  if (module === 'torch.jit._pickle' && SCRIPT_LIST_BUILDERS.has(name)) return (args: unknown[]) => args[0];
  return findGlobal(module, name);
}

function persistentLoad(pid: unknown): StorageRef {
  if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) {
    throw new Error(`unsupported persistent id ${String(Array.isArray(pid) ? pid[0] : pid)}`);
  }
  const [, type, key, location, numel] = pid;
  if (!(type instanceof StorageType)) throw new Error('persistent id without a storage type');
  if (typeof key !== 'string' || typeof location !== 'string' || !isCount(numel)) {
    throw new Error(`malformed storage id for key ${String(key)}`);
  }
  return { type, key, location, numel };
}

/** Unpickles a torch.save data.pkl into PyDicts, arrays, plain values and TensorRefs. */
export function unpickleTorch(bytes: Uint8Array): unknown {
  return unpickleAt(bytes, 0, { findGlobal, persistentLoad }).value;
}

/** Unpickles a TorchScript archive's data.pkl: ScriptObjects whose attributes hold TensorRefs. */
export function unpickleTorchScript(bytes: Uint8Array): unknown {
  return unpickleAt(bytes, 0, { findGlobal: findScriptGlobal, persistentLoad }).value;
}

/**
 * The same for the pickle at `start` of a legacy file, whose persistent ids differ (the caller resolves
 * them); `end` is just past it.
 */
export function unpickleTorchAt(
  bytes: Uint8Array,
  start: number,
  load: (pid: unknown) => unknown,
): { value: unknown; end: number } {
  return unpickleAt(bytes, start, { findGlobal, persistentLoad: load });
}
