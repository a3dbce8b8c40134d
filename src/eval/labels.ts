// Class labels in any of the forms callers hold them, turned into dense int32 codes so that metrics
// compare small integers. Query and gallery labels share one code book: equal labels, equal codes.
import type { Tensor } from '../tensor/index.js';

export type LabelsLike = Tensor | ArrayLike<number> | BigInt64Array;

const INTEGER_DTYPES = ['int64', 'int32', 'int16', 'int8', 'uint8'];

function isTensor(x: LabelsLike): x is Tensor {
  return typeof (x as Tensor).toTypedArray === 'function' && typeof (x as Tensor).dtype === 'string';
}

/** The labels as plain values (numbers, or bigints for int64 tensors), checked to be 1-d integers. */
export function labelValues(labels: LabelsLike, what: string): ArrayLike<number | bigint> {
  if (isTensor(labels)) {
    const shape = labels.shape;
    const oneD = shape.length === 1 || (shape.length === 2 && shape[1] === 1);
    if (!oneD) throw new RangeError(`${what}: expected a 1-d array of labels, got shape [${shape.join(', ')}]`);
    if (!INTEGER_DTYPES.includes(labels.dtype)) {
      throw new RangeError(`${what}: expected integer labels (int32 or int64), got ${labels.dtype}`);
    }
    return labels.toTypedArray() as ArrayLike<number | bigint>;
  }
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i] as number | bigint;
    if (typeof v === 'number' && !Number.isInteger(v))
      throw new RangeError(`${what}: label ${i} is ${v}, not an integer`);
  }
  return labels;
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

// int32 and int64 arrays of the same labels must share codes: bigints that fit become numbers.
function key(v: number | bigint): number | bigint {
  return typeof v === 'bigint' && v <= SAFE && v >= -SAFE ? Number(v) : v;
}

export class LabelCodes {
  readonly #codes = new Map<number | bigint, number>();

  /** Dense codes 0, 1, ... in order of first appearance across every call. */
  encode(labels: LabelsLike, what: string): Int32Array {
    const values = labelValues(labels, what);
    const out = new Int32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = key(values[i] as number | bigint);
      let code = this.#codes.get(v);
      if (code === undefined) {
        code = this.#codes.size;
        this.#codes.set(v, code);
      }
      out[i] = code;
    }
    return out;
  }

  get size(): number {
    return this.#codes.size;
  }

  /** The original label of each code. */
  values(): (number | bigint)[] {
    return [...this.#codes.keys()];
  }
}

/** Occurrences of each code (codes are 0..size-1). */
export function countCodes(codes: Int32Array, size: number): Int32Array {
  const counts = new Int32Array(size);
  for (const c of codes) counts[c] = (counts[c] as number) + 1;
  return counts;
}
