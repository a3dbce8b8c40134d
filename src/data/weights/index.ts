export { cachedWeightsPath, fetchWeights, pinPath, readPin, weightsCacheDir } from './cache.js';
export { type ResolvedWeights, resolveWeights, resolveWeightsSync } from './resolve.js';
export {
  isPrefixOnly,
  isUnpublished,
  WEIGHTS,
  WEIGHTS_TABLE_ENV,
  type WeightsEntry,
  weightsEntry,
  weightsTable,
} from './table.js';
