// libtorch's autocast through the addon: the switch's state and its restoration, what runs in bf16
// inside, and the gradient path (parameters and their gradients stay float32).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { autocastState, withAutocast } from '../../src/tensor/autocast.js';
import { F, manualSeed, randn, scope } from '../../src/tensor/index.js';
import { native } from '../../src/tensor/native.js';
import { onThisCpu } from '../helpers/cpu-bf16.js';

test('withAutocast switches CPU autocast on inside and restores the previous state after', () => {
  assert.deepEqual(autocastState('cpu'), { enabled: false, dtype: 'bfloat16' });
  const inside = withAutocast('bfloat16', () => autocastState('cpu'));
  assert.deepEqual(inside, { enabled: true, dtype: 'bfloat16' });
  assert.deepEqual(autocastState('cpu'), { enabled: false, dtype: 'bfloat16' });
  // The CUDA switch is a separate one (its default dtype is float16) and is left alone.
  assert.equal(autocastState('cuda').enabled, false);
});

test('nested regions restore each level, and the nesting depth returns to 0', () => {
  withAutocast('bfloat16', () => {
    withAutocast('bfloat16', () => assert.deepEqual(autocastState(), { enabled: true, dtype: 'bfloat16' }));
    assert.deepEqual(autocastState(), { enabled: true, dtype: 'bfloat16' });
    withAutocast('bfloat16', () => assert.equal(autocastState().enabled, false), { enabled: false });
    assert.equal(autocastState().enabled, true);
  });
  assert.equal(autocastState().enabled, false);
  // Depth 0 now: one increment gives 1.
  assert.equal(native.autocastIncrementNesting(), 1);
  assert.equal(native.autocastDecrementNesting(), 0);
});

test('a throw inside restores the state and propagates the error', () => {
  assert.throws(
    () =>
      withAutocast('bfloat16', () => {
        assert.equal(autocastState().enabled, true);
        throw new Error('boom');
      }),
    /boom/,
  );
  assert.deepEqual(autocastState(), { enabled: false, dtype: 'bfloat16' });
  // A libtorch error inside (shape mismatch) too.
  assert.throws(() => withAutocast('bfloat16', () => scope(() => randn([2, 3]).matmul(randn([2, 3])))));
  assert.equal(autocastState().enabled, false);
});

test('bad arguments are refused before reaching libtorch', () => {
  assert.throws(() => withAutocast('float32' as 'bfloat16', () => 1), /bfloat16 or float16/);
  assert.throws(() => autocastState('mps' as 'cpu'), /'cpu' or 'cuda'/);
  assert.throws(() => withAutocast('bfloat16', async () => 1), /synchronous/);
  assert.equal(autocastState().enabled, false);
  // libtorch 1.13's CPU autocast takes bf16 only: its refusal is an Error, and nothing changed.
  if (native.version().torch.startsWith('1.')) {
    assert.throws(() => withAutocast('float16', () => 1), /Bfloat16/);
    assert.deepEqual(autocastState(), { enabled: false, dtype: 'bfloat16' });
    assert.equal(native.autocastIncrementNesting(), 1);
    assert.equal(native.autocastDecrementNesting(), 0);
  }
});

test(onThisCpu('a convolution under bf16 autocast yields bf16 from float32 operands; outside, float32'), () => {
  manualSeed(0);
  scope(() => {
    const x = randn([2, 3, 8, 8]);
    const w = randn([4, 3, 3, 3]);
    const inside = withAutocast('bfloat16', () => F.conv2d(x, w, null, { padding: 1 }));
    assert.equal(inside.dtype, 'bfloat16');
    assert.equal(w.dtype, 'float32', 'the weight itself is not cast');
    const outside = F.conv2d(x, w, null, { padding: 1 });
    assert.equal(outside.dtype, 'float32');
    // bf16 keeps 8 bits of mantissa: relative error of a 27-term dot product well under 2%. Measured
    // (2026-12-07): 0.0030 in oneDNN's native bf16, 0.0084 in ATen's emulation (scripts/as-avx2-cpu.sh).
    const err = inside.float().sub(outside).abs().max().item();
    const scale = outside.abs().max().item();
    assert.ok(err / scale < 0.02, `relative error ${err / scale}`);
    assert.ok(err > 0, 'bf16 rounding must show (the conv really ran in bf16)');
  });
});

test(onThisCpu('gradients flow through a bf16 forward to float32 parameters'), () => {
  manualSeed(1);
  scope(() => {
    const x = randn([4, 3, 6, 6]);
    const w = randn([5, 3, 3, 3]).mul(0.1);
    w.requiresGrad = true;
    const y = withAutocast('bfloat16', () => F.relu(F.conv2d(x, w, null, { padding: 1 })));
    assert.equal(y.dtype, 'bfloat16');
    // The loss outside autocast, in float32.
    y.float().square().mean().backward();
    const g = w.grad;
    assert.ok(g);
    assert.equal(g.dtype, 'float32');
    // Same gradient as the float32 forward to bf16 accuracy. Measured cosine (2026-12-07): 0.999995 native,
    // 0.99998 emulated.
    const w32 = w.detach().clone();
    w32.requiresGrad = true;
    F.relu(F.conv2d(x, w32, null, { padding: 1 }))
      .square()
      .mean()
      .backward();
    const g32 = w32.grad;
    assert.ok(g32);
    const cos = g.mul(g32).sum().item() / (g.norm().item() * g32.norm().item());
    assert.ok(cos > 0.999, `gradient cosine ${cos}`);
  });
});
