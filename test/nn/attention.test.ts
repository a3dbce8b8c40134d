// Multi-head self-attention against PyTorch (tools/golden/vit.py): torch.nn.MultiheadAttention (batch
// first) with no mask, a bool and a float attn_mask and a key_padding_mask, for batch 1 with 7 tokens and
// batch 3 with 5; DINO's Attention (the qkv layout) for batch 1 and 2 with 7 and 9 tokens. And by hand:
// one head with identity projections is softmax(x x^T / sqrt(d)) x.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MultiheadSelfAttention, QkvSelfAttention, scaledDotProductAttention } from '../../src/nn/index.js';
import { eye, noGrad, scope, type Tensor, tensor, zeros } from '../../src/tensor/index.js';
import { assertClose, vitGolden } from './vit-fixtures.js';

const TOL = 2e-6;

describe('attention vs PyTorch', () => {
  const g = vitGolden('attention.safetensors');
  const t = (name: string) => g.t[name] as Tensor;

  test('nn.MultiheadAttention layout: no mask (batch 1, 7 tokens; batch 3, 5 tokens), masks and key padding', () => {
    const mha = new MultiheadSelfAttention(16, 4);
    mha.loadStateDict(g.weights('mha_weights.'));
    assert.deepEqual(
      [...mha.stateShapes().keys()],
      ['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias'],
    );
    scope(() =>
      noGrad(() => {
        assertClose(mha.forward(t('x1')), t('mha.none.x1'), TOL, 'no mask, batch 1');
        assertClose(mha.forward(t('x3')), t('mha.none.x3'), TOL, 'no mask, batch 3');
        const bool = t('bool_mask').to('bool');
        assertClose(mha.forward(t('x3'), { mask: bool }), t('mha.bool.x3'), TOL, 'bool attn_mask');
        assertClose(mha.forward(t('x3'), { mask: t('float_mask') }), t('mha.float.x3'), TOL, 'float attn_mask');
        const padding = t('key_padding_mask').to('bool');
        assertClose(mha.forward(t('x3'), { keyPaddingMask: padding }), t('mha.padding.x3'), TOL, 'key padding');
        // A mask that changes nothing would pass the no-mask golden: the masked outputs must differ from it.
        assert.ok(mha.forward(t('x3'), { mask: bool }).sub(t('mha.none.x3')).abs().max().item() > 1e-2);
      }),
    );
    mha.dispose();
  });

  test("DINO's Attention (qkv, proj): batch 1 with 7 tokens, batch 2 with 9", () => {
    const attn = new QkvSelfAttention(16, 4);
    attn.loadStateDict(g.weights('qkv_weights.'));
    scope(() =>
      noGrad(() => {
        assertClose(attn.forward(t('x1')), t('qkv.x1'), TOL, 'batch 1');
        assertClose(attn.forward(t('x9')), t('qkv.x9'), TOL, 'batch 2');
      }),
    );
    attn.dispose();
  });
});

describe('scaledDotProductAttention by hand', () => {
  test('one head: softmax(x x^T / sqrt(d)) x; a masked key gets no weight', () => {
    scope(() => {
      // Two tokens of dimension 2: scores [[1, 0], [0, 4]] / sqrt(2).
      const x = tensor([1, 0, 0, 2], { shape: [1, 1, 2, 2] });
      const out = scaledDotProductAttention(x, x, x).flatten().toArray();
      const a = Math.exp(1 / Math.SQRT2) / (Math.exp(1 / Math.SQRT2) + 1);
      const b = 1 / (1 + Math.exp(4 / Math.SQRT2));
      const want = [a * 1, (1 - a) * 2, b * 1, (1 - b) * 2];
      for (const [i, v] of out.entries())
        assert.ok(Math.abs(v - (want[i] as number)) < 1e-6, `${i}: ${v} vs ${want[i]}`);
      const mask = tensor([0, 1, 0, 0], { shape: [2, 2] }).to('bool');
      const masked = scaledDotProductAttention(x, x, x, { mask }).flatten().toArray();
      assert.deepEqual(masked.slice(0, 2), [1, 0], 'the first query sees only itself');
    });
  });

  test('identity projections: MultiheadSelfAttention of one head is the plain formula', () => {
    const mha = new MultiheadSelfAttention(3, 1);
    scope(() =>
      noGrad(() => {
        const proj = eye(3);
        mha.loadStateDict({
          in_proj_weight: proj.repeat(3, 1),
          in_proj_bias: zeros([9]),
          'out_proj.weight': proj,
          'out_proj.bias': zeros([3]),
        });
        const x = tensor([0.5, -1, 2, 1, 0, -0.5, 0.25, 0.75, 1.5], { shape: [1, 3, 3] });
        const want = scaledDotProductAttention(x.unsqueeze(1), x.unsqueeze(1), x.unsqueeze(1)).squeeze(1);
        assertClose(mha.forward(x), want, 1e-6, 'identity projections');
      }),
    );
    mha.dispose();
  });

  test('refuses tokens of the wrong width and a bad key padding mask', () => {
    const mha = new MultiheadSelfAttention(8, 2);
    assert.throws(() => mha.forward(zeros([1, 3, 4])), /expected tokens \[B, N, 8\], got \[1, 3, 4\]/);
    assert.throws(
      () => mha.forward(zeros([2, 3, 8]), { keyPaddingMask: zeros([2, 4]).to('bool') }),
      /keyPaddingMask: expected bool \[2, 3\]/,
    );
    assert.throws(() => new MultiheadSelfAttention(10, 3), /10 features do not split into 3 heads/);
    mha.dispose();
  });
});
