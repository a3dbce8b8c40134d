// The shapes data flows in: formats produce Datasets, samplers pick Samples, the image pipeline
// turns them into tensors.

/** One labelled image. `label` is 0..C-1 within its split (remapped in order first seen). */
export interface Sample {
  /** Absolute path of the image file, or a virtual id (e.g. `fashion-mnist:train/17`) for in-memory data. */
  path: string;
  label: number;
}

export type SplitName = 'train' | 'test' | 'query' | 'gallery';

/** Decoded pixels, row-major HWC uint8. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

export interface Dataset {
  /** Format name: cub, cars196, sop, inshop, folder, csv, fashion-mnist, mnist. */
  name: string;
  root: string;
  /** CUB/Cars/SOP/folder/csv/MNIST: train + test. In-Shop: train + query + gallery (query and gallery share one label mapping). */
  splits: Partial<Record<SplitName, Sample[]>>;
  /** Pixels of samples that are not image files (MNIST-like data); absent when every path is a file. */
  readRaw?: (sample: Sample) => RawImage;
}
