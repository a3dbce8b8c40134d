// Sequential: children named '0', '1', ... (as torch.nn.Sequential), or given names (Sequential.named, as
// torch.nn.Sequential(OrderedDict)), applied in order.
import type { Tensor } from '../tensor/index.js';
import { Module } from './module.js';

export class Sequential extends Module {
  readonly #layers: Module[];

  constructor(...layers: Module[]) {
    super();
    this.#layers = layers;
    layers.forEach((layer, i) => {
      this.registerModule(String(i), layer);
    });
  }

  /** torch.nn.Sequential(OrderedDict(entries)): children with the given names, applied in order. */
  static named(entries: readonly (readonly [string, Module])[]): Sequential {
    const s = new Sequential();
    for (const [name, layer] of entries) {
      s.registerModule(name, layer);
      s.#layers.push(layer);
    }
    return s;
  }

  get length(): number {
    return this.#layers.length;
  }

  at(index: number): Module {
    const layer = this.#layers[index];
    if (!layer) throw new RangeError(`Sequential has ${this.#layers.length} layers, no index ${index}`);
    return layer;
  }

  /** Frees each intermediate result as soon as the next layer has consumed it. */
  forward(x: Tensor): Tensor {
    let current = x;
    for (const layer of this.#layers) {
      const next = layer.forward(current);
      if (current !== x && next !== current) current.dispose();
      current = next;
    }
    return current;
  }
}
