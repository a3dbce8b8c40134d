// ProxyNCA (Movshovitz-Attias et al., ICCV 2017), one proxy per class, with the NCA ratio that leaves
// the positive proxy out of the denominator:
//   x^_i = s_x x_i / ||x_i||,   p^_c = s_p p_c / ||p_c||,   D_ic = ||x^_i - p^_c||^2
//   loss = 1/B sum_i -log( exp(-D_{i,y_i}) / sum_{c != y_i} exp(-D_ic) )
//        = 1/B sum_i [ D_{i,y_i} + log sum_{c != y_i} exp(-D_ic) ]
// (it can be negative). Scales default to s_x = 1, s_p = 3 as the widely used PyTorch implementation.
import { F, type Generator, keep, randn, type Tensor, tensor } from '../tensor/index.js';
import type { Device } from '../tensor/tensor.js';
import { checkBatch, hostLabels, type LossFactory, type MetricLoss } from './types.js';

export interface ProxyNcaOptions {
  numClasses: number;
  dim: number;
  scaleEmbeddings?: number;
  scaleProxies?: number;
  /** Generator for the proxies' initialisation, N(0, 1/8^2) (default: the global one). */
  generator?: Generator;
  device?: Device;
}

export class ProxyNcaLoss implements MetricLoss {
  /** Proxies P, C x d (normalised inside the loss). */
  readonly proxies: Tensor;
  readonly numClasses: number;
  readonly dim: number;
  readonly scaleEmbeddings: number;
  readonly scaleProxies: number;

  constructor(o: ProxyNcaOptions) {
    if (!Number.isInteger(o.numClasses) || o.numClasses < 2) {
      throw new RangeError(`ProxyNcaLoss: numClasses must be an integer >= 2, got ${o.numClasses}`);
    }
    if (!Number.isInteger(o.dim) || o.dim < 1)
      throw new RangeError(`ProxyNcaLoss: dim must be a positive integer, got ${o.dim}`);
    this.numClasses = o.numClasses;
    this.dim = o.dim;
    this.scaleEmbeddings = o.scaleEmbeddings ?? 1;
    this.scaleProxies = o.scaleProxies ?? 3;
    for (const [k, v] of [
      ['scaleEmbeddings', this.scaleEmbeddings],
      ['scaleProxies', this.scaleProxies],
    ] as const) {
      if (!(v > 0 && Number.isFinite(v))) throw new RangeError(`ProxyNcaLoss: ${k} must be > 0, got ${v}`);
    }
    const init = randn([o.numClasses, o.dim], { generator: o.generator }).div(8);
    const proxies = o.device && o.device !== 'cpu' ? init.to(o.device) : init;
    if (proxies !== init) init.dispose();
    this.proxies = keep(proxies.requiresGrad_(true));
  }

  forward(embeddings: Tensor, labels: Tensor): Tensor {
    checkBatch('ProxyNcaLoss', embeddings, labels, this.dim);
    const ys = hostLabels('ProxyNcaLoss', labels, this.numClasses);
    let target = tensor(BigInt64Array.from(ys, BigInt), { shape: [ys.length, 1] });
    if (embeddings.device !== 'cpu') target = target.to(embeddings.device);
    const x = F.normalize(embeddings).mul(this.scaleEmbeddings);
    const p = F.normalize(this.proxies).mul(this.scaleProxies);
    const dist = x.square().sum(1, true).add(p.square().sum(1, true).T).sub(x.mm(p.T), 2).clamp(0);
    const positive = dist.gather(1, target).squeeze(1);
    const negatives = dist.neg().scatter(1, target, Number.NEGATIVE_INFINITY).logsumexp(1);
    return positive.add(negatives).mean();
  }

  parameters(): Tensor[] {
    return [this.proxies];
  }

  namedParameters(): Record<string, Tensor> {
    return { proxies: this.proxies };
  }
}

export const createProxyNca: LossFactory = ({ numClasses, dim, options }) =>
  new ProxyNcaLoss({ numClasses, dim, device: options.device as Device });
