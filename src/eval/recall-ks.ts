// The Recall@K lists each benchmark reports (spec section 4): the one source for the trainer's presets
// and defaults, `eval`, and the demo.

const DATASET_RECALL_KS: Readonly<Record<string, readonly number[]>> = {
  cub: [1, 2, 4, 8],
  cars196: [1, 2, 4, 8],
  sop: [1, 10, 100, 1000],
  inshop: [1, 10, 20, 30, 40, 50],
};

/** The K list of any other data set (and of embeddings without a data set). */
export const DEFAULT_RECALL_KS: readonly number[] = [1, 2, 4, 8];

const ALIASES: Readonly<Record<string, string>> = {
  cub200: 'cub',
  cub2002011: 'cub',
  cars: 'cars196',
  stanfordonlineproducts: 'sop',
  onlineproducts: 'sop',
  deepfashion: 'inshop',
};

/** The benchmark K list of a data set name (case and punctuation ignored: 'CUB-200-2011', 'In-Shop'), or null. */
export function recallKsForDataset(name: string): readonly number[] | null {
  const compact = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  const canonical = ALIASES[compact] ?? compact;
  return DATASET_RECALL_KS[canonical] ?? null;
}

/** The K list to report for a data set: its benchmark list, else DEFAULT_RECALL_KS. A fresh array. */
export function recallKs(dataset: string | undefined): number[] {
  return [...((dataset === undefined ? null : recallKsForDataset(dataset)) ?? DEFAULT_RECALL_KS)];
}
