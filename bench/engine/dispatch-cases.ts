// Part (a): small ops whose time is mostly dispatch overhead. reference.py runs the same cases,
// by name, with the same operands; Python frees results by refcount, we free them as our users do
// (dispose() or a scope), so that cost is part of what we measure.
import { rand, scope, type Tensor, zeros } from '../../src/tensor/index.js';

export interface DispatchCase {
  name: string;
  description: string;
  /** Ops per iteration, to report time per op. */
  ops: number;
  /** Iterations per timed sample (about 10-30 ms of work). */
  iterations: number;
  /** Builds the operands once and returns the timed body. */
  prepare(): (iterations: number) => void;
}

function binary(name: string, shape: number[], op: (a: Tensor, b: Tensor) => Tensor, iterations: number) {
  return {
    name,
    description: `${name.split('_')[0]} of two float32 [${shape.join('x')}] tensors`,
    ops: 1,
    iterations,
    prepare() {
      const a = rand(shape);
      const b = rand(shape);
      return (n: number) => {
        for (let i = 0; i < n; i++) op(a, b).dispose();
      };
    },
  } satisfies DispatchCase;
}

function unary(name: string, shape: number[], op: (a: Tensor) => Tensor, iterations: number) {
  return {
    name,
    description: `${name.split('_')[0]} of a float32 [${shape.join('x')}] tensor`,
    ops: 1,
    iterations,
    prepare() {
      const a = rand(shape).sub(0.5);
      return (n: number) => {
        for (let i = 0; i < n; i++) op(a).dispose();
      };
    },
  } satisfies DispatchCase;
}

const small = [4];
const medium = [64, 64];

export const DISPATCH_CASES: DispatchCase[] = [
  binary('add_4', small, (a, b) => a.add(b), 5000),
  binary('mul_4', small, (a, b) => a.mul(b), 5000),
  unary('relu_4', small, (a) => a.relu(), 5000),
  unary('sum_4', small, (a) => a.sum(), 5000),
  binary('add_64x64', medium, (a, b) => a.add(b), 3000),
  binary('mul_64x64', medium, (a, b) => a.mul(b), 3000),
  unary('relu_64x64', medium, (a) => a.relu(), 3000),
  unary('sum_64x64', medium, (a) => a.sum(), 3000),
  {
    name: 'chain10_4',
    description: 'a chain of 10 ops (add, mul, relu, sub, mul by 0.5, exp, add 1, log, neg, abs) on [4], in a scope',
    ops: 10,
    iterations: 500,
    prepare() {
      const a = rand(small);
      const b = rand(small);
      return (n: number) => {
        for (let i = 0; i < n; i++) {
          scope(() => {
            a.add(b).mul(b).relu().sub(b).mul(0.5).exp().add(1).log().neg().abs();
          });
        }
      };
    },
  },
  {
    name: 'create_dispose_4',
    description: 'zeros([4]) then free it',
    ops: 1,
    iterations: 5000,
    prepare() {
      return (n: number) => {
        for (let i = 0; i < n; i++) zeros(small).dispose();
      };
    },
  },
];
