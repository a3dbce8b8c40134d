// The original Cars196 archive: car_ims/000001.jpg... and cars_annos.mat, whose `annotations` struct array has
// relative_im_path ('car_ims/000001.jpg'), class (1..196), bounding boxes and a `test` flag (not used: the
// metric learning split is by class). `class_names` (a cell of strings) names the classes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../util/errors.js';
import type { Sample } from '../types.js';
import { carsSplit } from './cars196-classes.js';
import type { ListProblem, LoadedDataset } from './format.js';
import { LabelMap } from './labels.js';
import { MatFormatError, type MatValue, matScalar, matString, readMat } from './matlab.js';

export function loadCarsMat(base: string): LoadedDataset {
  const file = join(base, 'cars_annos.mat');
  let variables: Map<string, MatValue>;
  try {
    variables = readMat(readFileSync(file));
  } catch (e) {
    if (e instanceof MatFormatError) throw new InputError(`${file}: ${e.message}`);
    throw new InputError(`${file}: cannot read (${(e as Error).message})`);
  }
  const annotations = variables.get('annotations');
  if (annotations?.kind !== 'struct') throw new InputError(`${file}: no 'annotations' struct array`);
  for (const field of ['relative_im_path', 'class']) {
    if (!annotations.fields.includes(field)) throw new InputError(`${file}: annotations have no '${field}' field`);
  }

  const maps = { train: new LabelMap(), test: new LabelMap() };
  const splits: { train: Sample[]; test: Sample[] } = { train: [], test: [] };
  try {
    annotations.items.forEach((item, i) => {
      const rel = matString(item.get('relative_im_path'), `annotations(${i + 1}).relative_im_path`);
      const classId = matScalar(item.get('class'), `annotations(${i + 1}).class`);
      const split = carsSplit(classId);
      splits[split].push({ path: join(base, rel), label: maps[split].label(String(classId)) });
    });
  } catch (e) {
    if (e instanceof MatFormatError) throw new InputError(`${file}: ${e.message}`);
    throw e;
  }
  return { name: 'cars196', root: base, splits, listProblems: emptyClasses(variables.get('class_names'), maps) };
}

function emptyClasses(names: MatValue | undefined, maps: { train: LabelMap; test: LabelMap }): ListProblem[] {
  if (names?.kind !== 'cell') return [];
  const problems: ListProblem[] = [];
  names.items.forEach((value, i) => {
    const classId = i + 1;
    const split = carsSplit(classId);
    if (maps[split].has(String(classId))) return;
    const name = value.kind === 'char' ? ` (${value.rows.join(' ')})` : '';
    problems.push({ kind: 'empty class', detail: `${split} class ${classId}${name} has no images` });
  });
  return problems;
}
