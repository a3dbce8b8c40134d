// The per-image work of the loader, the same on the main thread and in decode workers.
import type { AugmentDraws } from '../image/augment.js';
import { BadImageError } from '../image/bad-image-error.js';
import type { Pixels } from '../image/pixels.js';
import { applyTransform, normalisationOf, planTransform, resizeWhole } from '../image/transform.js';
import type { TransformConfig, TransformMode } from '../image/transform-config.js';

export interface ImageJob {
  config: TransformConfig;
  mode: TransformMode;
  draws: AugmentDraws;
  /** Also return the whole resized image (for the cache). */
  keepResized: boolean;
}

export interface ImageResult {
  /** Float32 CHW of the transformed image. */
  chw: Float32Array;
  shape: [number, number, number];
  resized?: Pixels;
}

export function outChannelsOf(config: TransformConfig): 1 | 3 {
  return config.colorOrder === 'gray' ? 1 : 3;
}

/** pixels are 1 or 3 channel uint8 as loadPixels returns them (or a cached resized image). */
export function processPixels(path: string, pixels: Pixels, job: ImageJob): ImageResult {
  const { config, mode, draws } = job;
  const resized = job.keepResized ? resizeWhole(pixels, config) : pixels;
  let plan: ReturnType<typeof planTransform>;
  try {
    plan = planTransform({ width: resized.width, height: resized.height }, config, mode, draws);
  } catch (e) {
    throw new BadImageError(path, (e as Error).message);
  }
  const channels = outChannelsOf(config);
  const { width, height } = plan.window;
  const chw = new Float32Array(channels * width * height);
  applyTransform(resized, plan, normalisationOf(config), chw, 0);
  return { chw, shape: [channels, height, width], ...(job.keepResized ? { resized } : {}) };
}
