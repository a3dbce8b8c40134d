// Child process of errors.test.ts: provokes libtorch errors, then checks the engine still computes.
import { F, ones, tensor, zeros } from '../../../src/tensor/index.js';

const errors: string[] = [];
const attempt = (fn: () => unknown) => {
  try {
    fn();
    errors.push('no error');
  } catch (e) {
    errors.push(e instanceof Error ? e.message : `non-Error thrown: ${String(e)}`);
  }
};
attempt(() => zeros([2, 3]).matmul(zeros([4, 5])));
attempt(() => F.conv2d(zeros([1, 3, 8, 8]), zeros([2, 5, 3, 3])));
attempt(() => zeros([3]).gather(0, tensor([9], { dtype: 'int64' })));
attempt(() => F.crossEntropy(zeros([2, 3]), tensor([0, 9], { dtype: 'int64' })));
const disposed = ones([1]);
disposed.dispose();
attempt(() => disposed.exp());
const afterwards = ones([2, 3]).sum().item();
process.stdout.write(JSON.stringify({ errors, afterwards }));
