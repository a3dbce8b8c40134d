// In-Shop Clothes Retrieval (DeepFashion): list_eval_partition.txt (at the root or in Eval/) and img/.
// Line 1 is the image count, line 2 the header "image_name item_id evaluation_status", then one row per image
// with status train, query or gallery. Paths are relative to the folder that holds img/ (the root).
// Train has its own labels; query and gallery share one mapping so equal items get equal labels.
import { join } from 'node:path';
import { InputError } from '../../util/errors.js';
import type { Sample } from '../types.js';
import { findBase, lineError, parseId, readLines, requireDirectory } from './files.js';
import type { ListProblem, LoadedDataset } from './format.js';
import { LabelMap } from './labels.js';

const LIST = 'list_eval_partition.txt';

export function loadInshop(root: string): LoadedDataset {
  const abs = requireDirectory(root, 'inshop');
  const listDir = findBase(abs, ['Eval'], LIST);
  if (listDir === undefined) throw new InputError(`inshop: ${LIST} not found in ${abs} or ${join(abs, 'Eval')}`);
  const file = join(listDir, LIST);
  const [countLine, header, ...rows] = readLines(file);
  const declared = parseId(countLine?.text.trim() ?? '');
  if (countLine === undefined || declared === undefined) {
    throw new InputError(`${file}: line 1 should be the number of images`);
  }
  const columns = header?.text.trim().split(/\s+/) ?? [];
  const col = {
    path: columns.indexOf('image_name'),
    item: columns.indexOf('item_id'),
    status: columns.indexOf('evaluation_status'),
  };
  if (col.path < 0 || col.item < 0 || col.status < 0) {
    throw new InputError(`${file}: line 2 should be the header "image_name item_id evaluation_status"`);
  }

  const trainLabels = new LabelMap();
  const evalLabels = new LabelMap();
  const splits: { train: Sample[]; query: Sample[]; gallery: Sample[] } = { train: [], query: [], gallery: [] };
  for (const { text, line } of rows) {
    const fields = text.trim().split(/\s+/);
    const rel = fields[col.path];
    const item = fields[col.item];
    const status = fields[col.status];
    if (rel === undefined || item === undefined || (status !== 'train' && status !== 'query' && status !== 'gallery')) {
      throw lineError(file, line, '"<image_name> <item_id> train|query|gallery"', text);
    }
    const labels = status === 'train' ? trainLabels : evalLabels;
    splits[status].push({ path: join(abs, rel), label: labels.label(item) });
  }
  const listProblems: ListProblem[] = [];
  if (declared !== rows.length) {
    listProblems.push({
      kind: 'list mismatch',
      detail: `${file} declares ${declared} images but lists ${rows.length}`,
    });
  }
  return { name: 'inshop', root: abs, splits, listProblems };
}
