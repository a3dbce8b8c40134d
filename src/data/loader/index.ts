export { BatchLoader, type BatchLoaderOptions, type BatchPosition, type LoadedBatch } from './batch-loader.js';
export { PixelCache } from './pixel-cache.js';
