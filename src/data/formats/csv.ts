// A CSV listing your images: a header with the columns path, label, split (any order, any case) and optionally
// is_query, is_gallery. Paths are relative to the CSV file's folder (absolute paths are kept); labels are any
// text. split is train, test, query or gallery. --root is the CSV file, or a folder holding dataset.csv.
// Without is_query/is_gallery columns and query/gallery rows the splits are train and test. With them they are
// train, query and gallery: a test row goes to query when is_query is true and to gallery when is_gallery is
// true (both: it is in both, as in SOP-style evaluation). True is 1/true/yes, false is 0/false/no/empty.
// Train has its own labels; test, query and gallery share one mapping.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { InputError } from '../../util/errors.js';
import type { Sample, SplitName } from '../types.js';
import { type CsvRecord, parseCsv } from './csv-text.js';
import type { LoadedDataset } from './format.js';
import { LabelMap } from './labels.js';

export const CSV_DEFAULT_NAME = 'dataset.csv';

export function loadCsv(root: string): LoadedDataset {
  const file = csvFile(root);
  const [header, ...rows] = parseCsv(readFileSync(file, 'utf8'), file);
  const names = header?.fields.map((f) => f.trim().toLowerCase()) ?? [];
  const col = (name: string) => names.indexOf(name);
  for (const required of ['path', 'label', 'split']) {
    if (col(required) < 0) {
      throw new InputError(`${file}: the header needs the columns path,label,split (found "${names.join(',')}")`);
    }
  }
  const flagColumns = col('is_query') >= 0 || col('is_gallery') >= 0;
  const retrieval = flagColumns || rows.some((r) => /^(query|gallery)$/i.test(r.fields[col('split')]?.trim() ?? ''));
  const dir = dirname(file);
  const trainLabels = new LabelMap();
  const evalLabels = new LabelMap();
  const splits: Partial<Record<SplitName, Sample[]>> = retrieval
    ? { train: [], query: [], gallery: [] }
    : { train: [], test: [] };

  for (const record of rows) {
    const field = (name: string) => record.fields[col(name)]?.trim() ?? '';
    const where = `${file}:${record.line}`;
    if (record.fields.length !== names.length) {
      throw new InputError(`${where}: expected ${names.length} columns, found ${record.fields.length}`);
    }
    const rel = field('path');
    const labelText = field('label');
    const split = field('split').toLowerCase();
    if (rel === '') throw new InputError(`${where}: empty path`);
    if (labelText === '') throw new InputError(`${where}: empty label`);
    const path = isAbsolute(rel) ? rel : join(dir, rel);
    if (split === 'train') {
      splits.train!.push({ path, label: trainLabels.label(labelText) });
      continue;
    }
    const label = evalLabels.label(labelText);
    for (const target of evalTargets(split, record, where, retrieval, flagColumns ? field : undefined)) {
      splits[target]!.push({ path, label });
    }
  }
  return { name: 'csv', root: file, splits, listProblems: [] };
}

function evalTargets(
  split: string,
  record: CsvRecord,
  where: string,
  retrieval: boolean,
  field: ((name: string) => string) | undefined,
): SplitName[] {
  if (split === 'query' || split === 'gallery') return [split];
  if (split !== 'test') throw new InputError(`${where}: split must be train, test, query or gallery, found "${split}"`);
  if (!retrieval) return ['test'];
  if (field === undefined) {
    throw new InputError(`${where}: a test row in a file with query/gallery rows needs is_query/is_gallery columns`);
  }
  const targets: SplitName[] = [];
  if (flag(field('is_query'), where, 'is_query')) targets.push('query');
  if (flag(field('is_gallery'), where, 'is_gallery')) targets.push('gallery');
  if (targets.length === 0) {
    throw new InputError(`${where}: test row with neither is_query nor is_gallery set (${record.fields.join(',')})`);
  }
  return targets;
}

function flag(text: string, where: string, column: string): boolean {
  const t = text.toLowerCase();
  if (t === '1' || t === 'true' || t === 'yes') return true;
  if (t === '' || t === '0' || t === 'false' || t === 'no') return false;
  throw new InputError(`${where}: ${column} must be 1/0, true/false or yes/no, found "${text}"`);
}

function csvFile(root: string): string {
  const abs = resolve(root);
  if (!existsSync(abs)) throw new InputError(`csv: --root ${root} does not exist`);
  if (!statSync(abs).isDirectory()) return abs;
  const inside = join(abs, CSV_DEFAULT_NAME);
  if (!existsSync(inside)) throw new InputError(`csv: ${inside} not found (give --root the CSV file itself)`);
  return inside;
}
