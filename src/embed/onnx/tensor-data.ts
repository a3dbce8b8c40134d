// Module tensors as host float32 arrays, and typed access to a module's named children.
import type { Module } from '../../nn/module.js';
import { scope, type Tensor } from '../../tensor/index.js';

/** A copy of the tensor's values as float32 on the host (whatever its dtype and device). */
export function floatData(t: Tensor): Float32Array {
  return scope(() => {
    const host = t.detach().to({ dtype: 'float32', device: 'cpu' }).contiguous();
    return host.toTypedArray() as Float32Array;
  });
}

/** The named child of a module, checked to be of the expected class (the emitters mirror the forwards). */
export function child<T extends Module>(parent: Module, name: string, cls: abstract new (...args: never[]) => T): T {
  const found = parent.namedChildren().find(([n]) => n === name)?.[1];
  if (!(found instanceof cls)) {
    throw new Error(`ONNX export: ${parent.constructor.name} has no ${cls.name} child '${name}'`);
  }
  return found;
}

export function hasChild(parent: Module, name: string): boolean {
  return parent.namedChildren().some(([n]) => n === name);
}
