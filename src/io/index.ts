// Reading and writing tensors: safetensors, .npy, PyTorch checkpoints, and atomic file writes.

export { FormatError } from '../util/errors.js';
export { writeFileAtomic } from './atomic.js';
export { loadNpy, parseNpy, saveNpy, serializeNpy } from './npy.js';
export { loadPth, parsePth } from './pth.js';
export {
  loadSafetensors,
  parseSafetensors,
  type Safetensors,
  saveSafetensors,
  serializeSafetensors,
} from './safetensors.js';
export { loadWeights } from './weights.js';
