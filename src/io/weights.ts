// One entry point for pretrained weights: PyTorch .pth (any torch.save format) or .safetensors, told apart
// by content.
import type { Tensor } from '../tensor/tensor.js';
import { FormatError } from '../util/errors.js';
import { isLegacyTorchSave, parsePth } from './pth.js';
import { readFileBytes } from './read-file.js';
import { parseSafetensors } from './safetensors.js';

const startsWith = (bytes: Uint8Array, prefix: number[]) => prefix.every((b, i) => bytes[i] === b);

/**
 * The tensors of a weights file, chosen by its first bytes: a zip ("PK\x03\x04") is read as a
 * torch.save checkpoint (see parsePth); a '{' at byte 8 (after the u64 header length) as safetensors,
 * so that a truncated one still gets safetensors' precise message; a pre-1.6 torch.save file (pickled
 * magic number, or tar) by parsePth again; anything else is a one-line FormatError naming the file.
 */
export function loadWeights(path: string): Record<string, Tensor> {
  const bytes = readFileBytes(path);
  if (startsWith(bytes, [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59])) {
    throw new FormatError(path, 'is a .npy array, not a weights file (expected .pth or .safetensors)');
  }
  // A zip has its compression method at byte 8, never '{'; a safetensors file never starts with "PK\x03\x04"
  // (that header length would be over 67 MB, beyond any real header).
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]) || startsWith(bytes, [0x50, 0x4b, 0x05, 0x06])) {
    return parsePth(bytes, path);
  }
  if (bytes[8] === 0x7b) return parseSafetensors(bytes, path).tensors;
  if (isLegacyTorchSave(bytes)) return parsePth(bytes, path);
  throw new FormatError(
    path,
    'is not a weights file: expected a PyTorch .pth (torch.save, any version) or a .safetensors file',
  );
}
