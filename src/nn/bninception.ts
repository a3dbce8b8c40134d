// BN-Inception (Ioffe & Szegedy 2015) in the layout of the widely used Caffe-converted weights
// (Cadene's pretrained-models `bninception`): flat keys such as conv1_7x7_s2, conv1_7x7_s2_bn,
// inception_3a_1x1, inception_3a_double_3x3_reduce_bn, ..., last_linear. Every convolution has a bias
// and is followed by BatchNorm and ReLU. Input: BGR in [0, 255] minus the Caffe mean (CAFFE_BGR_INPUT).
import { cat, F, scope, type Tensor } from '../tensor/index.js';
import { Backbone } from './backbone.js';
import { BatchNorm2d } from './batchnorm.js';
import { Conv2d } from './conv.js';
import type { InitOptions } from './init.js';
import { CAFFE_BGR_INPUT, type InputSpec } from './input-spec.js';
import { Linear } from './linear.js';

/** One inception module: [1x1], [reduce -> 3x3], [reduce -> 3x3 -> 3x3], [pool -> proj]. */
export interface MixedSpec {
  name: string;
  inC: number;
  /** null in the two grid-reduction modules (3c, 4e), which also stride 2 and have no pool projection. */
  conv1x1: number | null;
  conv3x3: [reduce: number, out: number];
  double3x3: [reduce: number, mid: number, out: number];
  pool: 'avg' | 'max';
  poolProj: number | null;
}

export const MIXED: readonly MixedSpec[] = [
  { name: '3a', inC: 192, conv1x1: 64, conv3x3: [64, 64], double3x3: [64, 96, 96], pool: 'avg', poolProj: 32 },
  { name: '3b', inC: 256, conv1x1: 64, conv3x3: [64, 96], double3x3: [64, 96, 96], pool: 'avg', poolProj: 64 },
  { name: '3c', inC: 320, conv1x1: null, conv3x3: [128, 160], double3x3: [64, 96, 96], pool: 'max', poolProj: null },
  { name: '4a', inC: 576, conv1x1: 224, conv3x3: [64, 96], double3x3: [96, 128, 128], pool: 'avg', poolProj: 128 },
  { name: '4b', inC: 576, conv1x1: 192, conv3x3: [96, 128], double3x3: [96, 128, 128], pool: 'avg', poolProj: 128 },
  { name: '4c', inC: 576, conv1x1: 160, conv3x3: [128, 160], double3x3: [128, 160, 160], pool: 'avg', poolProj: 128 },
  { name: '4d', inC: 608, conv1x1: 96, conv3x3: [128, 192], double3x3: [160, 192, 192], pool: 'avg', poolProj: 128 },
  { name: '4e', inC: 608, conv1x1: null, conv3x3: [128, 192], double3x3: [192, 256, 256], pool: 'max', poolProj: null },
  { name: '5a', inC: 1056, conv1x1: 352, conv3x3: [192, 320], double3x3: [160, 224, 224], pool: 'avg', poolProj: 128 },
  { name: '5b', inC: 1024, conv1x1: 352, conv3x3: [192, 320], double3x3: [192, 224, 224], pool: 'max', poolProj: 128 },
];

/** A convolution registered as `<name>` and its BatchNorm as `<name>_bn`, applied with ReLU. */
interface ConvBn {
  conv: Conv2d;
  bn: BatchNorm2d;
}

interface Mixed {
  spec: MixedSpec;
  conv1x1: ConvBn | null;
  conv3x3: ConvBn[];
  double3x3: ConvBn[];
  poolProj: ConvBn | null;
}

export interface BnInceptionOptions extends InitOptions {
  /** Classes of the `last_linear` head; null builds no head. Default 1000. */
  numClasses?: number | null;
}

export class BnInception extends Backbone {
  readonly width = 1024;
  readonly input: InputSpec = CAFFE_BGR_INPUT;
  readonly headPrefix = 'last_linear';
  readonly #init: InitOptions;
  readonly #stem: ConvBn[];
  readonly #mixed: Mixed[];
  readonly #head: Linear | null;

  constructor(o: BnInceptionOptions = {}) {
    super();
    this.#init = { generator: o.generator };
    this.#stem = [
      this.#convBn('conv1_7x7_s2', 3, 64, 7, 2),
      this.#convBn('conv2_3x3_reduce', 64, 64, 1),
      this.#convBn('conv2_3x3', 64, 192, 3),
    ];
    this.#mixed = MIXED.map((spec) => this.#buildMixed(spec));
    const numClasses = o.numClasses === undefined ? 1000 : o.numClasses;
    this.#head =
      numClasses === null ? null : this.registerModule('last_linear', new Linear(this.width, numClasses, this.#init));
  }

  #convBn(name: string, inC: number, outC: number, kernel: number, stride = 1): ConvBn {
    const conv = this.registerModule(
      name,
      new Conv2d(inC, outC, kernel, { ...this.#init, stride, padding: (kernel - 1) / 2 }),
    );
    const bn = this.registerModule(`${name}_bn`, new BatchNorm2d(outC));
    return { conv, bn };
  }

  #buildMixed(spec: MixedSpec): Mixed {
    const p = `inception_${spec.name}`;
    const stride = spec.conv1x1 === null ? 2 : 1;
    const conv1x1 = spec.conv1x1 === null ? null : this.#convBn(`${p}_1x1`, spec.inC, spec.conv1x1, 1);
    const [r3, o3] = spec.conv3x3;
    const conv3x3 = [this.#convBn(`${p}_3x3_reduce`, spec.inC, r3, 1), this.#convBn(`${p}_3x3`, r3, o3, 3, stride)];
    const [rd, md, od] = spec.double3x3;
    const double3x3 = [
      this.#convBn(`${p}_double_3x3_reduce`, spec.inC, rd, 1),
      this.#convBn(`${p}_double_3x3_1`, rd, md, 3),
      this.#convBn(`${p}_double_3x3_2`, md, od, 3, stride),
    ];
    const poolProj = spec.poolProj === null ? null : this.#convBn(`${p}_pool_proj`, spec.inC, spec.poolProj, 1);
    return { spec, conv1x1, conv3x3, double3x3, poolProj };
  }

  /**
   * The Caffe-converted file stores BatchNorm vectors as [1, C] (old PyTorch copied them in by
   * broadcasting); they are reshaped to [C] here.
   */
  override adaptWeights(stateDict: Readonly<Record<string, Tensor>>): Record<string, Tensor> {
    const shapes = this.stateShapes();
    const out: Record<string, Tensor> = {};
    for (const [key, value] of Object.entries(stateDict)) {
      const want = shapes.get(key);
      const rowVector = want?.length === 1 && value.rank === 2 && value.shape[0] === 1 && value.shape[1] === want[0];
      out[key] = rowVector ? value.reshape(want[0] as number) : value;
    }
    return out;
  }

  featureMap(x: Tensor): Tensor {
    this.checkInput(x);
    return scope(() => {
      const [c1, c2r, c2] = this.#stem as [ConvBn, ConvBn, ConvBn];
      let h = F.maxPool2d(apply(c1, x), 3, { stride: 2, ceilMode: true });
      h = F.maxPool2d(apply(c2, apply(c2r, h)), 3, { stride: 2, ceilMode: true });
      for (const m of this.#mixed) {
        const next = mixedForward(m, h);
        h.dispose();
        h = next;
      }
      return h;
    });
  }

  features(x: Tensor): Tensor {
    return scope(() => F.adaptiveAvgPool2d(this.featureMap(x), 1).flatten(1));
  }

  /** Class logits through `last_linear` (the pooled features when built without a head). */
  forward(x: Tensor): Tensor {
    const head = this.#head;
    return head ? scope(() => head.forward(this.features(x))) : this.features(x);
  }
}

function apply(u: ConvBn, x: Tensor): Tensor {
  return scope(() => u.bn.forward(u.conv.forward(x)).relu_());
}

function chain(units: ConvBn[], x: Tensor): Tensor {
  return scope(() => units.reduce((h, u) => apply(u, h), x));
}

function mixedForward(m: Mixed, x: Tensor): Tensor {
  return scope(() => {
    const reduction = m.spec.conv1x1 === null;
    const branches: Tensor[] = [];
    if (m.conv1x1) branches.push(apply(m.conv1x1, x));
    branches.push(chain(m.conv3x3, x), chain(m.double3x3, x));
    let pooled: Tensor;
    if (reduction) pooled = F.maxPool2d(x, 3, { stride: 2, ceilMode: true });
    else if (m.spec.pool === 'max') pooled = F.maxPool2d(x, 3, { stride: 1, padding: 1, ceilMode: true });
    else pooled = F.avgPool2d(x, 3, { stride: 1, padding: 1, ceilMode: true, countIncludePad: true });
    branches.push(m.poolProj ? apply(m.poolProj, pooled) : pooled);
    return cat(branches, 1);
  });
}
