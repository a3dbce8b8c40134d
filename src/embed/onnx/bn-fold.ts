// Folding an eval-mode BatchNorm into the convolution before it: with s = gamma / sqrt(var + eps) per
// output channel, conv-then-BN equals a convolution with weight w * s and bias beta + (b - mean) * s
// (b = 0 for a convolution without bias). Computed in float64, stored as float32.

export interface BnParams {
  /** gamma; null for a BatchNorm without affine (scale 1). */
  weight: Float32Array | null;
  /** beta; null for a BatchNorm without affine (shift 0). */
  bias: Float32Array | null;
  runningMean: Float32Array;
  runningVar: Float32Array;
  eps: number;
}

export interface FoldedConv {
  weight: Float32Array;
  bias: Float32Array;
}

/** weight: [out, in/groups, kh, kw] flat; bias: the convolution's own bias or null. */
export function foldBatchNorm(weight: Float32Array, bias: Float32Array | null, bn: BnParams): FoldedConv {
  const outC = bn.runningMean.length;
  if (outC === 0 || weight.length % outC !== 0) {
    throw new Error(`BN folding: ${weight.length} weights do not split into ${outC} output channels`);
  }
  const per = weight.length / outC;
  const folded = new Float32Array(weight.length);
  const foldedBias = new Float32Array(outC);
  for (let c = 0; c < outC; c++) {
    const gamma = bn.weight ? (bn.weight[c] as number) : 1;
    const beta = bn.bias ? (bn.bias[c] as number) : 0;
    const s = gamma / Math.sqrt((bn.runningVar[c] as number) + bn.eps);
    for (let i = c * per; i < (c + 1) * per; i++) folded[i] = (weight[i] as number) * s;
    foldedBias[c] = beta + ((bias ? (bias[c] as number) : 0) - (bn.runningMean[c] as number)) * s;
  }
  return { weight: folded, bias: foldedBias };
}
