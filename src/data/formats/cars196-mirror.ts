// The per-class-folder Cars196 mirror: anno_train.csv / anno_test.csv rows "file,x1,y1,x2,y2,class" (no header),
// names.csv with one class name per line (class k is line k), and images in train/<class name>/<file> and
// test/<class name>/<file>, usually under car_data/car_data/. Its train/test folders are the classification
// split; both are read and re-split by class (1-98 train, 99-196 test). Rows are taken train file first.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../util/errors.js';
import type { Sample } from '../types.js';
import { carsSplit } from './cars196-classes.js';
import { parseCsv } from './csv-text.js';
import { lineError, parseId } from './files.js';
import type { ListProblem, LoadedDataset } from './format.js';
import { LabelMap } from './labels.js';

export interface CarsMirror {
  /** The folder with anno_train.csv, anno_test.csv and names.csv. */
  base: string;
  /** The folders holding the class folders of the original train and test images. */
  imageDirs: { train: string; test: string };
}

const IMAGE_PARENTS = [join('car_data', 'car_data'), 'car_data', '.'];

export function findCarsMirror(root: string): CarsMirror | undefined {
  for (const base of [root, join(root, 'car_data')]) {
    if (!existsSync(join(base, 'anno_train.csv'))) continue;
    for (const parent of IMAGE_PARENTS) {
      const train = join(base, parent, 'train');
      const test = join(base, parent, 'test');
      if (isDir(train) && isDir(test)) return { base, imageDirs: { train, test } };
    }
    throw new InputError(
      `cars196: ${join(base, 'anno_train.csv')} found but no train/ and test/ image folders under ${IMAGE_PARENTS.map((p) => join(base, p)).join(', ')}`,
    );
  }
  return undefined;
}

export function loadCarsMirror(mirror: CarsMirror): LoadedDataset {
  const names = readCsvFile(join(mirror.base, 'names.csv')).map((r) => r.fields.join(','));
  const maps = { train: new LabelMap(), test: new LabelMap() };
  const splits: { train: Sample[]; test: Sample[] } = { train: [], test: [] };
  for (const part of ['train', 'test'] as const) {
    const file = join(mirror.base, `anno_${part}.csv`);
    const dir = mirror.imageDirs[part];
    const located = indexClassFolders(dir);
    readCsvFile(file).forEach(({ fields, line }, i) => {
      const fileName = fields[0]?.trim() ?? '';
      const classId = parseId(fields[5]?.trim() ?? '');
      if (i === 0 && classId === undefined) return; // a header row
      if (fields.length !== 6 || classId === undefined || fileName === '') {
        throw lineError(file, line, '"<file>,<x1>,<y1>,<x2>,<y2>,<class>"', fields.join(','));
      }
      const className = names[classId - 1];
      if (className === undefined) {
        throw new InputError(`${file}:${line}: class ${classId} is not in names.csv (${names.length} names)`);
      }
      const path = located.get(fileName) ?? join(dir, folderName(className), fileName);
      const split = carsSplit(classId);
      splits[split].push({ path, label: maps[split].label(String(classId)) });
    });
  }
  const listProblems: ListProblem[] = [];
  names.forEach((name, i) => {
    const split = carsSplit(i + 1);
    if (!maps[split].has(String(i + 1))) {
      listProblems.push({ kind: 'empty class', detail: `${split} class ${i + 1} (${name}) has no images` });
    }
  });
  return { name: 'cars196', root: mirror.base, splits, listProblems };
}

function readCsvFile(path: string) {
  if (!existsSync(path)) throw new InputError(`cars196: ${path}: file not found`);
  return parseCsv(readFileSync(path, 'utf8'), path);
}

/** Image file name -> path, over every class folder (file names are unique within train and within test). */
function indexClassFolders(dir: string): Map<string, string> {
  const index = new Map<string, string>();
  for (const cls of readdirSync(dir, { withFileTypes: true })) {
    if (!cls.isDirectory()) continue;
    for (const file of readdirSync(join(dir, cls.name))) {
      if (!index.has(file)) index.set(file, join(dir, cls.name, file));
    }
  }
  return index;
}

/** Class names with a slash ("Ram C/V Cargo Van Minivan 2012") cannot be folder names; the mirror uses '-'. */
function folderName(className: string): string {
  return className.replaceAll('/', '-');
}

function isDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}
