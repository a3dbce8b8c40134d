// ProxyNCA against an independent implementation: pytorch-metric-learning's ProxyNCALoss (fixture from
// tools/golden/pml_losses.py). PML keeps the positive proxy in the softmax's denominator, ours (the
// paper's) leaves it out; with PML's softmax_scale = s_x * s_p both see the same distances, and the
// fixture maps PML's per-sample loss l' to ours by l = l' + log(1 - exp(-l')).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProxyNcaLoss } from '../../src/loss/proxynca.js';
import { noGrad, scope, type Tensor } from '../../src/tensor/index.js';
import { loadGoldenJson, maxAbsDiff } from '../helpers/golden.js';

test("ProxyNCA loss and gradients (embeddings, proxies) from PML's ProxyNCALoss, three pairs of scales", () => {
  const { tensors, extra } = loadGoldenJson('loss-pml-proxynca.json');
  for (const name of ['default', 'equal', 'unit']) {
    scope(() => {
      const t = (k: string) => tensors[`${name}.${k}`] as Tensor;
      const info = extra[name] as { scale_embeddings: number; scale_proxies: number; pml_mean_loss: number };
      const [numClasses, dim] = t('proxies').shape as [number, number];
      const loss = new ProxyNcaLoss({
        numClasses,
        dim,
        scaleEmbeddings: info.scale_embeddings,
        scaleProxies: info.scale_proxies,
      });
      noGrad(() => loss.proxies.copy_(t('proxies')));
      const x = t('x').clone().requiresGrad_(true);
      const value = loss.forward(x, t('y'));
      const want = t('loss').item();
      assert.ok(Math.abs(value.item() - want) < 1e-5, `${name}: ${value.item()} vs ${want}`);
      // Leaving the positive out makes every term smaller than PML's, by log(1 / (1 - q)).
      assert.ok(value.item() < info.pml_mean_loss);
      value.backward();
      const dx = maxAbsDiff(x.grad as Tensor, t('grad_x'));
      assert.ok(dx < 1e-5, `${name}: embedding gradient, max abs difference ${dx}`);
      const dp = maxAbsDiff(loss.proxies.grad as Tensor, t('grad_proxies'));
      assert.ok(dp < 1e-5, `${name}: proxy gradient, max abs difference ${dp}`);
    });
  }
});
