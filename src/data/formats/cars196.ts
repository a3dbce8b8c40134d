// Cars196 in either of its two common shapes: the original car_ims/ + cars_annos.mat, or the per-class-folder
// mirror with anno_train.csv / anno_test.csv / names.csv. Either way classes 1-98 train, 99-196 test.
import { join } from 'node:path';
import { InputError } from '../../util/errors.js';
import { loadCarsMat } from './cars196-mat.js';
import { findCarsMirror, loadCarsMirror } from './cars196-mirror.js';
import { findBase, requireDirectory } from './files.js';
import type { LoadedDataset } from './format.js';

export function loadCars196(root: string): LoadedDataset {
  const abs = requireDirectory(root, 'cars196');
  const matBase = findBase(abs, ['cars196', 'stanford_cars'], 'cars_annos.mat');
  if (matBase !== undefined) return loadCarsMat(matBase);
  const mirror = findCarsMirror(abs);
  if (mirror !== undefined) return loadCarsMirror(mirror);
  throw new InputError(
    `cars196: neither ${join(abs, 'cars_annos.mat')} (with car_ims/) nor anno_train.csv/anno_test.csv/names.csv found in ${abs}`,
  );
}
