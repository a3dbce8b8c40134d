// One entry point for pretrained weights: PyTorch .pth (zip) or .safetensors, told apart by content.
import type { Tensor } from '../tensor/tensor.js';
import { FormatError } from './format-error.js';
import { parsePth } from './pth.js';
import { readFileBytes } from './read-file.js';
import { parseSafetensors } from './safetensors.js';

const startsWith = (bytes: Uint8Array, prefix: number[]) => prefix.every((b, i) => bytes[i] === b);

/** A safetensors file starts with a u64 header length (that fits the file) and then '{'. */
function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 10) return false;
  const length = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  return bytes[8] === 0x7b && length <= BigInt(bytes.length - 8);
}

/**
 * The tensors of a weights file, chosen by its first bytes: a zip ("PK\x03\x04") is read as a
 * torch.save checkpoint (see parsePth), a safetensors header as safetensors; anything else is a
 * one-line FormatError naming the file.
 */
export function loadWeights(path: string): Record<string, Tensor> {
  const bytes = readFileBytes(path);
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]) || startsWith(bytes, [0x50, 0x4b, 0x05, 0x06])) {
    return parsePth(bytes, path);
  }
  if (bytes[0] === 0x80) return parsePth(bytes, path); // a legacy pickle: parsePth explains it
  if (looksLikeSafetensors(bytes)) return parseSafetensors(bytes, path).tensors;
  if (startsWith(bytes, [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59])) {
    throw new FormatError(path, 'is a .npy array, not a weights file (expected .pth or .safetensors)');
  }
  throw new FormatError(
    path,
    'is not a weights file: expected a PyTorch .pth (zip, PyTorch >= 1.6) or a .safetensors file',
  );
}
