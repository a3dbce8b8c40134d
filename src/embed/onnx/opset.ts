// Which ONNX opsets the exporter writes, the IR version that goes with each, and the first opset of every
// operator form it emits. LayerNormalization exists from opset 17; below that the head is decomposed.
import { UsageError } from '../../util/errors.js';

/** Run well by onnxruntime 1.30 (node and web); LayerNormalization is a single node from here on. */
export const DEFAULT_OPSET = 17;
/** MaxPool/AveragePool's ceil_mode (BN-Inception) appeared in opset 10. */
export const MIN_OPSET = 10;
/** The newest opset onnxruntime 1.30 loads with every operator we emit (checked by the tests). */
export const MAX_OPSET = 23;

/** The first opset of each operator (in the form the emitters use it); older ones cannot express it. */
export const OP_SINCE: Readonly<Record<string, number>> = {
  Add: 7,
  AveragePool: 10,
  BatchNormalization: 9,
  Concat: 4,
  Conv: 1,
  Div: 7,
  Erf: 9,
  Expand: 8,
  Flatten: 9,
  Gather: 1,
  GlobalAveragePool: 1,
  LayerNormalization: 17,
  MatMul: 9,
  Max: 8,
  MaxPool: 10,
  Mul: 7,
  ReduceL2: 1,
  ReduceMean: 1,
  Relu: 6,
  Reshape: 5,
  Shape: 1,
  Sigmoid: 6,
  // Before opset 13 Softmax flattens from its axis on: with the last axis, the same softmax over it.
  Softmax: 1,
  Slice: 10,
  Sqrt: 6,
  Sub: 7,
  Transpose: 1,
};

/** From opset 18 the Reduce* operators take their axes as an input instead of an attribute. */
export const REDUCE_AXES_AS_INPUT = 18;

/** The IR version the ONNX release that introduced the opset wrote (onnx/docs/Versioning.md). */
export function irVersionFor(opset: number): number {
  if (opset <= 10) return 5;
  if (opset <= 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  if (opset <= 22) return 10;
  return 11;
}

/** The opset a flag value asks for, or a UsageError naming the supported range. */
export function parseOpset(value: string | number | undefined, flag = '--opset'): number {
  if (value === undefined) return DEFAULT_OPSET;
  const n = typeof value === 'number' ? value : Number(value);
  const blank = typeof value === 'string' && value.trim() === '';
  if (blank || !Number.isInteger(n) || n < MIN_OPSET || n > MAX_OPSET) {
    throw new UsageError(
      `${flag}: expected an integer from ${MIN_OPSET} (ceil-mode pooling) to ${MAX_OPSET} (newest onnxruntime 1.30 runs), got "${value}"`,
    );
  }
  return n;
}
