// BatchNorm2d as torch.nn.BatchNorm2d: batch statistics in training mode (updating the running
// statistics with momentum and counting num_batches_tracked), running statistics in eval mode.
import { F, noGrad, ones, type Tensor, zeros } from '../tensor/index.js';
import { Module } from './module.js';

export interface BatchNormOptions {
  eps?: number;
  momentum?: number;
  affine?: boolean;
}

export class BatchNorm2d extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number;
  readonly affine: boolean;

  constructor(numFeatures: number, o: BatchNormOptions = {}) {
    super();
    this.numFeatures = numFeatures;
    this.eps = o.eps ?? 1e-5;
    this.momentum = o.momentum ?? 0.1;
    this.affine = o.affine ?? true;
    if (this.affine) {
      this.registerParameter('weight', ones([numFeatures]));
      this.registerParameter('bias', zeros([numFeatures]));
    }
    this.registerBuffer('running_mean', zeros([numFeatures]));
    this.registerBuffer('running_var', ones([numFeatures]));
    this.registerBuffer('num_batches_tracked', zeros([], { dtype: 'int64' }));
  }

  get weight(): Tensor | null {
    return this.affine ? this.param('weight') : null;
  }
  get bias(): Tensor | null {
    return this.affine ? this.param('bias') : null;
  }
  get runningMean(): Tensor {
    return this.buffer('running_mean');
  }
  get runningVar(): Tensor {
    return this.buffer('running_var');
  }
  get numBatchesTracked(): Tensor {
    return this.buffer('num_batches_tracked');
  }

  forward(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== this.numFeatures) {
      throw new Error(
        `BatchNorm2d(${this.numFeatures}): expected input [N, ${this.numFeatures}, H, W], got [${x.shape.join(', ')}]`,
      );
    }
    if (this.training && x.numel / this.numFeatures <= 1) {
      // As PyTorch: one value per channel has no variance (the running variance would become NaN).
      throw new Error(
        `BatchNorm2d(${this.numFeatures}): expected more than 1 value per channel when training, got input [${x.shape.join(', ')}]`,
      );
    }
    if (this.training) noGrad(() => this.numBatchesTracked.add_(1));
    return F.batchNorm(x, {
      weight: this.weight,
      bias: this.bias,
      runningMean: this.runningMean,
      runningVar: this.runningVar,
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
    });
  }
}
