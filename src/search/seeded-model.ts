// loadModel with the global generator seeded first. Bare backbone weights with --dim below the backbone's
// width get a projection layer that the weights file does not hold: it is initialised at random, so the
// index build and every later query embedder must draw the same one, or queries are not comparable with
// the indexed vectors. Checkpoints hold every weight and are unaffected.
import { type LoadedModel, loadModel } from '../embed/load-model.js';
import { manualSeed } from '../tensor/index.js';

export const PROJECTION_SEED = 0;

export function loadSeededModel(path: string, o: { arch?: string; dim?: number }): LoadedModel {
  manualSeed(PROJECTION_SEED);
  return loadModel(path, o);
}
