import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProxyNcaLoss } from '../../src/loss/proxynca.js';
import { noGrad, scope, type Tensor, tensor } from '../../src/tensor/index.js';
import { loadGoldenJson, maxAbsDiff } from '../helpers/golden.js';

test('ProxyNCA loss and gradients (embeddings and proxies) equal PyTorch', () => {
  scope(() => {
    const { tensors: t, extra } = loadGoldenJson('loss-proxynca.json');
    const get = (k: string) => t[k] as Tensor;
    const loss = new ProxyNcaLoss({
      numClasses: 5,
      dim: 6,
      scaleEmbeddings: extra['scale_embeddings'] as number,
      scaleProxies: extra['scale_proxies'] as number,
    });
    noGrad(() => loss.proxies.copy_(get('proxies')));
    const x = get('x').clone().requiresGrad_(true);
    const value = loss.forward(x, get('y'));
    assert.ok(Math.abs(value.item() - get('loss').item()) < 1e-5, `${value.item()} vs ${get('loss').item()}`);
    value.backward();
    assert.ok(maxAbsDiff(x.grad as Tensor, get('grad_x')) < 1e-5);
    assert.ok(maxAbsDiff(loss.proxies.grad as Tensor, get('grad_proxies')) < 1e-5);
  });
});

test('ProxyNCA hand-computed: the positive proxy is left out of the denominator', () => {
  scope(() => {
    // x = e1; proxies e1, e2, -e1 at scale 1: D = [0, 2, 4]; label 0 -> 0 + log(e^-2 + e^-4).
    const loss = new ProxyNcaLoss({ numClasses: 3, dim: 2, scaleProxies: 1 });
    noGrad(() =>
      loss.proxies.copy_(
        tensor([
          [1, 0],
          [0, 1],
          [-1, 0],
        ]),
      ),
    );
    const value = loss.forward(tensor([[2, 0]]), tensor([0], { dtype: 'int64' })).item();
    assert.ok(Math.abs(value - Math.log(Math.exp(-2) + Math.exp(-4))) < 1e-5);
    // Label 1: D_pos = 2, others 0 and 4 -> 2 + log(1 + e^-4).
    const v1 = loss.forward(tensor([[2, 0]]), tensor([1], { dtype: 'int64' })).item();
    assert.ok(Math.abs(v1 - (2 + Math.log(1 + Math.exp(-4)))) < 1e-5);
    assert.deepEqual(loss.parameters(), [loss.proxies]);
  });
});
