// Weight initialisation as torch.nn.init, drawing from the seeded global generator or an explicit one.
import { empty, type Generator, noGrad, scope, type Tensor, where } from '../tensor/index.js';

export interface InitOptions {
  /** Draw from this generator instead of the global one (seeded by manualSeed). */
  generator?: Generator;
  /**
   * Leave weights as allocated, drawing nothing (ViT backbones only): for weights that are loaded next,
   * and for checking a large configuration's keys and shapes without touching its memory.
   */
  uninitialised?: boolean;
}

/** fan_in and fan_out of a weight [out, in, ...kernel] as torch.nn.init computes them. */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new Error(`fan in/out needs a weight of rank >= 2, got [${shape.join(', ')}]`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: (shape[1] as number) * receptive, fanOut: (shape[0] as number) * receptive };
}

/** A fresh tensor filled from U(-bound, bound). */
export function uniformTensor(shape: readonly number[], bound: number, o: InitOptions = {}): Tensor {
  return noGrad(() => (o.uninitialised ? empty(shape) : empty(shape).uniform_(-bound, bound, o.generator)));
}

/**
 * N(0, std^2) truncated to [-2 std, 2 std] (timm's and torchvision's trunc_normal_ for ViTs): values
 * outside are redrawn three times (then 1 in 10^7 remains, clamped). Not PyTorch's stream of draws.
 */
export function truncNormal(shape: readonly number[], std: number, o: InitOptions = {}): Tensor {
  if (o.uninitialised) return empty(shape);
  return scope(() =>
    noGrad(() => {
      const out = empty(shape).normal_(0, std, o.generator);
      for (let round = 0; round < 3; round++) {
        const outside = out.abs().gt(2 * std);
        const fresh = empty(shape).normal_(0, std, o.generator);
        out.copy_(where(outside, fresh, out));
      }
      return out.clamp_(-2 * std, 2 * std);
    }),
  );
}

/** N(mean, std^2), or nothing drawn when uninitialised. */
export function normalTensor(shape: readonly number[], std: number, o: InitOptions = {}, mean = 0): Tensor {
  return noGrad(() => (o.uninitialised ? empty(shape) : empty(shape).normal_(mean, std, o.generator)));
}

/** Glorot's U(+-sqrt(6 / (fan_in + fan_out))) (xavier_uniform_), as torch.nn.MultiheadAttention's in_proj. */
export function xavierUniform(shape: readonly number[], o: InitOptions = {}): Tensor {
  const { fanIn, fanOut } = fans(shape);
  return uniformTensor(shape, Math.sqrt(6 / (fanIn + fanOut)), o);
}

/** N(0, std^2) with std = sqrt(2) / sqrt(fan), as kaiming_normal_(nonlinearity='relu'). */
export function kaimingNormalRelu(shape: readonly number[], mode: 'fanIn' | 'fanOut', o: InitOptions = {}): Tensor {
  const std = Math.SQRT2 / Math.sqrt(fans(shape)[mode]);
  return noGrad(() => empty(shape).normal_(0, std, o.generator));
}

/**
 * PyTorch's default for Conv and Linear weights: kaiming_uniform_(a=sqrt(5)), which is
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (gain sqrt(2/(1+5)) times sqrt(3/fan_in)).
 */
export function defaultWeight(shape: readonly number[], o: InitOptions = {}): Tensor {
  return uniformTensor(shape, 1 / Math.sqrt(fans(shape).fanIn), o);
}

/** PyTorch's default bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) of the layer's weight. */
export function defaultBias(length: number, fanIn: number, o: InitOptions = {}): Tensor {
  return uniformTensor([length], fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0, o);
}
