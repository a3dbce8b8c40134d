// A small builder of ONNX graphs over onnx-proto's protobufjs classes: nodes with unique names,
// float32/int64 initializers stored as raw little-endian bytes, and attribute helpers.
import { endianness } from 'node:os';
import type { onnx as OnnxTypes } from 'onnx-proto';
import onnxProto from 'onnx-proto';
import { OP_SINCE } from './opset.js';

export const { onnx } = onnxProto;
export type Attribute = OnnxTypes.IAttributeProto;
export type NodeProto = OnnxTypes.INodeProto;
export type TensorProto = OnnxTypes.ITensorProto;
export type ValueInfo = OnnxTypes.IValueInfoProto;
export type ModelProto = OnnxTypes.IModelProto;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const A = onnx.AttributeProto.AttributeType;

export const attrInt = (name: string, i: number): Attribute => ({ name, type: A.INT, i });
export const attrInts = (name: string, ints: readonly number[]): Attribute => ({ name, type: A.INTS, ints: [...ints] });
export const attrFloat = (name: string, f: number): Attribute => ({ name, type: A.FLOAT, f });

function littleEndianBytes(data: Float32Array | BigInt64Array): Uint8Array {
  if (endianness() !== 'LE') throw new Error('ONNX export needs a little-endian machine (raw_data is little-endian)');
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** A dimension: a fixed size, or a symbolic name (dim_param) for a size chosen at run time. */
export type Dim = number | string;

export function tensorValueInfo(name: string, dims: readonly Dim[]): ValueInfo {
  return {
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly #used = new Set<string>();

  constructor(readonly opset: number) {}

  /** `base`, or base_2, base_3, ... when taken: value and node names are unique in a graph. */
  fresh(base: string): string {
    let name = base;
    for (let i = 2; this.#used.has(name); i++) name = `${base}_${i}`;
    this.#used.add(name);
    return name;
  }

  /** Reserves a name chosen elsewhere (the graph input). */
  reserve(name: string): string {
    if (this.#used.has(name)) throw new Error(`ONNX value name '${name}' is already used`);
    this.#used.add(name);
    return name;
  }

  /** Appends a node and returns its output's name (`output` when given, else a fresh name from `name`). */
  add(opType: string, inputs: readonly string[], o: { name: string; attrs?: Attribute[]; output?: string }): string {
    const since = OP_SINCE[opType];
    if (since === undefined) throw new Error(`ONNX export: operator ${opType} is not in the opset table`);
    if (this.opset < since) throw new Error(`ONNX export: ${opType} needs opset ${since}, exporting ${this.opset}`);
    const output = o.output === undefined ? this.fresh(o.name) : this.reserve(o.output);
    this.nodes.push({ name: output, opType, input: [...inputs], output: [output], attribute: o.attrs ?? [] });
    return output;
  }

  floatInit(name: string, data: Float32Array, dims: readonly number[]): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (count !== data.length) throw new Error(`initializer ${name}: ${data.length} values for shape [${dims}]`);
    const unique = this.fresh(name);
    this.initializers.push({ name: unique, dataType: FLOAT, dims: [...dims], rawData: littleEndianBytes(data) });
    return unique;
  }

  /** int64 values, a vector by default (dims [] for a scalar of one value). */
  int64Init(name: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    const unique = this.fresh(name);
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    this.initializers.push({ name: unique, dataType: INT64, dims: [...dims], rawData: littleEndianBytes(data) });
    return unique;
  }
}

export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}
