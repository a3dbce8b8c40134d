// CUB-200-2011: CUB_200_2011/images.txt ("id relpath"), image_class_labels.txt ("id class"), images/.
// Metric learning splits by class: 1-100 train, 101-200 test (train_test_split.txt is the classification
// split and is not used). classes.txt, when present, names the classes and reveals empty ones.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../util/errors.js';
import type { Sample } from '../types.js';
import { findBase, lineError, parseId, readLines, requireDirectory } from './files.js';
import type { ListProblem, LoadedDataset } from './format.js';
import { LabelMap } from './labels.js';

const FIRST_TEST_CLASS = 101;

export function loadCub(root: string): LoadedDataset {
  const abs = requireDirectory(root, 'cub');
  const base = findBase(abs, ['CUB_200_2011'], 'images.txt');
  if (base === undefined) {
    throw new InputError(`cub: images.txt not found in ${abs} or ${join(abs, 'CUB_200_2011')}`);
  }
  const imagesFile = join(base, 'images.txt');
  const labelsFile = join(base, 'image_class_labels.txt');
  const classOf = new Map<string, number>();
  for (const { text, line } of readLines(labelsFile)) {
    const [id, cls, extra] = text.trim().split(/\s+/);
    const classId = parseId(cls ?? '');
    if (id === undefined || classId === undefined || extra !== undefined) {
      throw lineError(labelsFile, line, '"<image id> <class id>"', text);
    }
    classOf.set(id, classId);
  }

  const maps = { train: new LabelMap(), test: new LabelMap() };
  const splits: { train: Sample[]; test: Sample[] } = { train: [], test: [] };
  for (const { text, line } of readLines(imagesFile)) {
    const match = /^\s*(\S+)\s+(.+?)\s*$/.exec(text);
    if (!match) throw lineError(imagesFile, line, '"<image id> <relative path>"', text);
    const [, id, rel] = match as unknown as [string, string, string];
    const classId = classOf.get(id);
    if (classId === undefined) throw new InputError(`${labelsFile}: no class for image ${id} (${imagesFile}:${line})`);
    const split = classId < FIRST_TEST_CLASS ? 'train' : 'test';
    splits[split].push({ path: join(base, 'images', rel), label: maps[split].label(String(classId)) });
  }
  return { name: 'cub', root: base, splits, listProblems: emptyClasses(base, maps) };
}

function emptyClasses(base: string, maps: { train: LabelMap; test: LabelMap }): ListProblem[] {
  const classesFile = join(base, 'classes.txt');
  if (!existsSync(classesFile)) return [];
  const problems: ListProblem[] = [];
  for (const { text, line } of readLines(classesFile)) {
    const match = /^\s*(\d+)\s+(.+?)\s*$/.exec(text);
    if (!match) throw lineError(classesFile, line, '"<class id> <name>"', text);
    const classId = Number(match[1]);
    const split = classId < FIRST_TEST_CLASS ? 'train' : 'test';
    if (!maps[split].has(String(classId))) {
      problems.push({ kind: 'empty class', detail: `${split} class ${classId} (${match[2]}) has no images` });
    }
  }
  return problems;
}
