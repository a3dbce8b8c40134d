// Image files through the image pipeline (decode, resize, crop, flip, normalise, prefetch).
import { UserError } from '../cli/errors.js';
import type { Dataset, Sample } from '../data/types.js';
import type { InputSpec } from '../nn/input-spec.js';
import type { TrainConfig } from './config.js';
import type { DisposableSource } from './sources.js';

export function createFileSource(
  dataset: Dataset,
  _samples: readonly Sample[],
  _input: InputSpec,
  _c: Pick<TrainConfig, 'seed' | 'resize' | 'crop' | 'workers' | 'skipBadImages'>,
  _mode: 'train' | 'eval',
): DisposableSource {
  throw new UserError(`${dataset.name}: image files need the image pipeline, which is not wired yet`);
}
