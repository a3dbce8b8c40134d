// Stanford Online Products: Stanford_Online_Products/Ebay_train.txt and Ebay_test.txt, space separated with the
// header "image_id class_id super_class_id path"; paths are relative to the folder holding the lists.
import { join } from 'node:path';
import { InputError } from '../../util/errors.js';
import type { Sample } from '../types.js';
import { findBase, lineError, readLines, requireDirectory } from './files.js';
import type { LoadedDataset } from './format.js';
import { LabelMap } from './labels.js';

export function loadSop(root: string): LoadedDataset {
  const abs = requireDirectory(root, 'sop');
  const base = findBase(abs, ['Stanford_Online_Products'], 'Ebay_train.txt');
  if (base === undefined) {
    throw new InputError(`sop: Ebay_train.txt not found in ${abs} or ${join(abs, 'Stanford_Online_Products')}`);
  }
  return {
    name: 'sop',
    root: base,
    splits: { train: readList(base, 'Ebay_train.txt'), test: readList(base, 'Ebay_test.txt') },
    listProblems: [],
  };
}

function readList(base: string, name: string): Sample[] {
  const file = join(base, name);
  const [header, ...rows] = readLines(file);
  const columns = header?.text.trim().split(/\s+/) ?? [];
  const classCol = columns.indexOf('class_id');
  const pathCol = columns.indexOf('path');
  if (header === undefined || classCol < 0 || pathCol < 0) {
    throw new InputError(`${file}: expected the header "image_id class_id super_class_id path"`);
  }
  const labels = new LabelMap();
  return rows.map(({ text, line }) => {
    const fields = text.trim().split(/\s+/);
    const classId = fields[classCol];
    const rel = fields[pathCol];
    if (fields.length !== columns.length || classId === undefined || rel === undefined) {
      throw lineError(file, line, `${columns.length} space-separated columns`, text);
    }
    return { path: join(base, rel), label: labels.label(classId) };
  });
}
