// Errors, not crashes: bad shapes, dtypes, devices, dims, indices and argument types raise JS Errors
// that carry libtorch's message (without its C++ backtrace), and the process carries on.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Device, F, scope, type Tensor, tensor, zeros } from '../../src/tensor/index.js';
import { runChild } from './run-child.js';

const int64 = (values: number[]) => tensor(values, { dtype: 'int64' });

// [what, action, expected message]; alternatives cover wording that differs between libtorch 1.13 and 2.x.
const CASES: [string, () => unknown, RegExp][] = [
  [
    'matmul with mismatched shapes',
    () => zeros([2, 3]).matmul(zeros([2, 3])),
    /shapes cannot be multiplied \(2x3 and 2x3\)/,
  ],
  ['linear with the wrong in-features', () => F.linear(zeros([2, 3]), zeros([4, 5])), /shapes cannot be multiplied/],
  [
    'conv2d with the wrong number of channels',
    () => F.conv2d(zeros([1, 3, 5, 5]), zeros([4, 2, 3, 3])),
    /expected input\[1, 3, 5, 5\] to have 2 channels, but got 3 channels/,
  ],
  ['conv2d on a 2-d input', () => F.conv2d(zeros([3, 5]), zeros([4, 2, 3, 3])), /3D.*4D.*input to conv2d/],
  ['broadcasting incompatible shapes', () => zeros([2, 3]).add(zeros([4])), /size of tensor a \(3\) must match/],
  ['mm of float32 and float64', () => zeros([2, 3]).mm(zeros([3, 2], { dtype: 'float64' })), /Float|float/],
  ['index_select with a float index', () => zeros([3]).indexSelect(0, tensor([0, 1])), /index_select\(\).*int/],
  ['gather with a float index', () => zeros([3, 4]).gather(1, tensor([[0], [1], [2]])), /gather\(\).*int64/],
  ['bitwise and of floats', () => zeros([2]).bitwiseAnd(zeros([2])), /bitwise_and.*Float/],
  ['popcount of floats', () => zeros([2]).popcount(), /popcount expects a uint8 tensor, got Float/],
  ['sum over dim 5 of a 2-d tensor', () => zeros([2, 3]).sum(5), /Dimension out of range.*got 5/],
  ['transpose with dim 3 of a 1-d tensor', () => zeros([3]).transpose(0, 3), /Dimension out of range/],
  ['select index 5 of 3', () => zeros([3]).select(0, 5), /index 5 out of range/],
  ['index_select out of range', () => zeros([3]).indexSelect(0, int64([7])), /index out of range/],
  [
    'gather out of range',
    () => zeros([3, 4]).gather(1, tensor([[7], [1], [2]], { dtype: 'int64' })),
    /index 7 is out of bounds/,
  ],
  [
    'cross_entropy target out of range',
    () => F.crossEntropy(zeros([2, 3]), int64([0, 5])),
    /Target 5 is out of bounds/,
  ],
  ['view of a non-contiguous tensor', () => zeros([2, 3]).T.view(6), /view size is not compatible/],
  ['reshape to the wrong size', () => zeros([2, 3]).reshape(4), /shape '\[4\]' is invalid for input of size 6/],
  ['layer_norm with the wrong shape', () => F.layerNorm(zeros([2, 3]), [4]), /normalized_shape=\[4\]/],
  [
    'batch_norm with a weight of the wrong size',
    () => F.batchNorm(zeros([2, 3]), { training: true, weight: zeros([4]) }),
    /weight should contain 3 elements/,
  ],
  ['backward of a tensor without grad', () => zeros([2]).sum().backward(), /does not require grad/],
  [
    'implicit backward of a non-scalar',
    () => zeros([2], { requiresGrad: true }).mul(2).backward(),
    /only for scalar outputs/,
  ],
  [
    'an unknown device type',
    () => zeros([2]).to({ device: 'gpu' as Device }),
    /device type at start of device string: gpu/,
  ],
  ['a malformed device string', () => zeros([2], { device: 'cuda:x' as Device }), /Invalid device string: 'cuda:x'/],
  ['an unknown dtype', () => zeros([2], { dtype: 'float128' as 'float32' }), /unknown dtype 'float128'/],
  [
    'a string where a shape goes',
    () => zeros([2]).reshape('a' as unknown as number),
    /argument 1: expected an array of integers/,
  ],
  [
    'a number where a tensor goes',
    () => F.conv2d(zeros([1, 1, 3, 3]), 42 as unknown as Tensor),
    /argument 1: expected a tensor/,
  ],
  ['a string operand', () => zeros([2]).add('x' as unknown as number), /argument 1: expected a tensor/],
  ['item() of two elements', () => zeros([2]).item(), /item\(\) needs a tensor with one element, got 2/],
  [
    'data that does not fill the shape',
    () => tensor(new Float32Array(3), { shape: [2, 2] }),
    /3 values do not fill shape \[2, 2\]/,
  ],
  ['a negative size', () => zeros([-1]), /shape must be non-negative integers/],
];

describe('errors carry libtorch messages', () => {
  for (const [what, action, expected] of CASES) {
    test(what, () => {
      scope(() => {
        let caught: unknown;
        try {
          action();
        } catch (e) {
          caught = e;
        }
        assert.ok(caught instanceof Error, `${what}: expected an Error, got ${String(caught)}`);
        assert.match(caught.message, expected);
        assert.doesNotMatch(caught.message, /Exception raised from/, 'no C++ backtrace in the message');
      });
    });
  }
});

describe('the process survives', () => {
  test('a child process hits several libtorch errors, keeps computing and exits 0', () => {
    const r = runChild<{ errors: string[]; afterwards: number }>('errors-survive.ts');
    assert.equal(r.errors.length, 5);
    assert.match(r.errors[0] ?? '', /shapes cannot be multiplied/);
    assert.match(r.errors[4] ?? '', /tensor used after dispose\(\)/);
    assert.equal(r.afterwards, 6);
  });
});
