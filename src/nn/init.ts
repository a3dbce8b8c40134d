// Weight initialisation as torch.nn.init, drawing from the seeded global generator or an explicit one.
import { empty, type Generator, noGrad, type Tensor } from '../tensor/index.js';

export interface InitOptions {
  /** Draw from this generator instead of the global one (seeded by manualSeed). */
  generator?: Generator;
}

/** fan_in and fan_out of a weight [out, in, ...kernel] as torch.nn.init computes them. */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new Error(`fan in/out needs a weight of rank >= 2, got [${shape.join(', ')}]`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: (shape[1] as number) * receptive, fanOut: (shape[0] as number) * receptive };
}

/** A fresh tensor filled from U(-bound, bound). */
export function uniformTensor(shape: readonly number[], bound: number, o: InitOptions = {}): Tensor {
  return noGrad(() => empty(shape).uniform_(-bound, bound, o.generator));
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
