// Bare backbone weights as torchvision saves them (conv1.weight, ..., fc.*), seeded, for commands that take
// `--checkpoint weights --arch NAME`.
import { saveSafetensors } from '../../src/io/safetensors.js';
import { ResNet } from '../../src/nn/index.js';
import { manualSeed } from '../../src/tensor/index.js';

/** Writes a seeded torchvision-layout ResNet (18, 34, 50 or 101 layers) state dict to a .safetensors file. */
export function writeResnetWeights(path: string, depth: 18 | 34 | 50 | 101 = 18, seed = 0): string {
  manualSeed(seed);
  const net = new ResNet(depth);
  try {
    saveSafetensors(path, net.stateDict());
  } finally {
    net.dispose();
  }
  return path;
}
