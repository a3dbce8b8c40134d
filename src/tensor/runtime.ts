// Process-wide engine settings and accounting.
import { native } from './native.js';

export interface MemoryInfo {
  /** Native tensor handles not yet freed (by dispose(), a scope or garbage collection). */
  liveTensors: number;
  /**
   * CPU storage bytes of those handles (views count their storage). V8 is told about the bytes of
   * tensors no scope owns, so that garbage collection runs when those pile up.
   */
  bytes: number;
}

export function memory(): MemoryInfo {
  return native.memory();
}

export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`setNumThreads(): expected a positive integer, got ${n}`);
  native.setNumThreads(n);
}
export function getNumThreads(): number {
  return native.getNumThreads();
}

export const cuda = {
  isAvailable(): boolean {
    return native.cudaIsAvailable();
  },
  deviceCount(): number {
    return native.cudaDeviceCount();
  },
  synchronize(device?: number): void {
    native.cudaSynchronize(device);
  },
};

export function libtorchVersion(): { torch: string; parallel: string } {
  return native.version();
}
