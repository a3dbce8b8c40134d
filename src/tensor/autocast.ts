// Mixed precision through libtorch's autocast, the way torch.autocast drives it: inside withAutocast,
// the ops autocast lists (convolutions, matmul, linear, ...) cast their inputs to the low-precision
// dtype, the ones that need range (losses, reductions it lists) run in float32; tensors made outside
// (parameters) keep their dtype. The state is per thread in libtorch, so a worker thread that runs a
// forward sets it itself.
import { type DType, dtypeCode, dtypeName } from './dtype.js';
import { native } from './native.js';
import type { AutocastDeviceType } from './native-api.js';

export type { AutocastDeviceType };

export interface AutocastState {
  enabled: boolean;
  dtype: DType;
}

function checkDeviceType(deviceType: string): asserts deviceType is AutocastDeviceType {
  if (deviceType !== 'cpu' && deviceType !== 'cuda') {
    throw new TypeError(`autocast: expected device type 'cpu' or 'cuda', got '${deviceType}'`);
  }
}

/** This thread's autocast switch and low-precision dtype for a device type. */
export function autocastState(deviceType: AutocastDeviceType = 'cpu'): AutocastState {
  checkDeviceType(deviceType);
  const s = native.autocastState(deviceType);
  return { enabled: s.enabled, dtype: dtypeName(s.dtype) };
}

/** The device type whose autocast switch a device ('cpu', 'cuda', 'cuda:1') is under. */
export function autocastDeviceType(device: string): AutocastDeviceType {
  if (device === 'cpu') return 'cpu';
  if (device === 'cuda' || device.startsWith('cuda:')) return 'cuda';
  throw new TypeError(`autocast: unsupported device '${device}'`);
}

export interface AutocastOptions {
  /** Which switch: 'cpu' (default) or 'cuda'. */
  deviceType?: AutocastDeviceType;
  /** false runs fn with autocast off (a float32 region inside an autocast one, e.g. a loss). */
  enabled?: boolean;
}

/**
 * Runs fn with autocast set to `dtype` (bfloat16 or float16) and restores the previous state afterwards,
 * also when fn throws. The outermost region frees the low-precision weight copies autocast caches.
 * fn must be synchronous: the state is the thread's, and an await would leak it into other work.
 */
export function withAutocast<R>(dtype: 'bfloat16' | 'float16', fn: () => R, o: AutocastOptions = {}): R {
  const deviceType = o.deviceType ?? 'cpu';
  checkDeviceType(deviceType);
  if (dtype !== 'bfloat16' && dtype !== 'float16') {
    throw new TypeError(`withAutocast: expected dtype bfloat16 or float16, got '${dtype as string}'`);
  }
  const previous = native.autocastState(deviceType);
  native.autocastSet(deviceType, o.enabled ?? true, dtypeCode(dtype));
  native.autocastIncrementNesting();
  try {
    const result = fn();
    if (result instanceof Promise) {
      throw new TypeError('withAutocast: fn must be synchronous (autocast is thread state; an await would leak it)');
    }
    return result;
  } finally {
    if (native.autocastDecrementNesting() === 0) native.autocastClearCache();
    native.autocastSet(deviceType, previous.enabled, previous.dtype);
  }
}
