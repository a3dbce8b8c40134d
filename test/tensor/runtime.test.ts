// Devices and threads: CUDA queries (absent on CPU-only machines), moving tensors, thread settings.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cuda, getNumThreads, libtorchVersion, scope, setNumThreads, tensor, zeros } from '../../src/tensor/index.js';
import { cannotApplyHere } from '../helpers/skip.js';

const hasCuda = cuda.isAvailable();

describe('without CUDA', { skip: cannotApplyHere(hasCuda && 'CUDA is available here') }, () => {
  test('deviceCount() is 0 and tensors live on the CPU', () => {
    assert.equal(cuda.deviceCount(), 0);
    scope(() => assert.equal(zeros([2]).device, 'cpu'));
  });
  test("moving to 'cuda' or creating on 'cuda:0' throws a clear error", () => {
    scope(() => {
      assert.throws(() => zeros([2]).to('cuda'), /device 'cuda' requested but CUDA is not available/);
      assert.throws(() => zeros([2], { device: 'cuda:0' }), /device 'cuda:0' requested but CUDA is not available/);
      assert.throws(() => tensor([1, 2], { device: 'cuda' }), /CUDA is not available/);
    });
  });
  test('synchronize() is a no-op', () => {
    cuda.synchronize();
  });
});

describe('with CUDA', { skip: cannotApplyHere(!hasCuda && 'CUDA is not available here (a CPU machine)') }, () => {
  test('a round trip through cuda:0 keeps the values, and ops run there', () => {
    scope(() => {
      const a = tensor([
        [1, 2],
        [3, 4],
      ]);
      const onGpu = a.to('cuda:0');
      assert.equal(onGpu.device, 'cuda:0');
      const product = onGpu.matmul(onGpu);
      cuda.synchronize();
      assert.deepEqual(product.to('cpu').toArray(), [7, 10, 15, 22]);
    });
  });
  test('a device index beyond deviceCount() throws', () => {
    const n = cuda.deviceCount();
    assert.ok(n >= 1);
    scope(() => assert.throws(() => zeros([1], { device: `cuda:${n}` }), new RegExp(`only ${n} CUDA device`)));
  });
});

describe('threads and version', () => {
  test('setNumThreads/getNumThreads round trip, and reject non-positive counts', () => {
    const previous = getNumThreads();
    try {
      setNumThreads(1);
      assert.equal(getNumThreads(), 1);
    } finally {
      setNumThreads(previous);
    }
    assert.equal(getNumThreads(), previous);
    assert.throws(() => setNumThreads(0), /positive integer/);
    assert.throws(() => setNumThreads(1.5), /positive integer/);
  });
  test('libtorchVersion() names a 1.x or 2.x release', () => {
    assert.match(libtorchVersion().torch, /^[12]\.\d+/);
  });
});
