// The exact values tools/golden/io.py stored for each fixture, and a bit-exact tensor comparison.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../../src/tensor/index.js';
import { REFERENCE_PYTHON } from '../helpers/reference-python.js';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'io');

export interface ExpectedTensor {
  dtype: string;
  shape: number[];
  values: (number | string)[];
}

const all = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as Record<
  string,
  Record<string, ExpectedTensor>
>;

export function expectedFor(file: string): Record<string, ExpectedTensor> {
  const found = all[file];
  if (!found) throw new Error(`expected.json has no entry '${file}'; rerun ${REFERENCE_PYTHON} tools/golden/io.py`);
  return found;
}

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

const SPECIAL: Record<string, number> = {
  nan: Number.NaN,
  inf: Number.POSITIVE_INFINITY,
  '-inf': Number.NEGATIVE_INFINITY,
};

/** Same dtype, shape and values; floats compared with Object.is (so -0 differs from 0, NaN equals NaN). */
export function assertExact(actual: Tensor, expected: ExpectedTensor, label: string): void {
  assert.equal(actual.dtype, expected.dtype, `${label}: dtype`);
  assert.deepEqual([...actual.shape], expected.shape, `${label}: shape`);
  const data = actual.toTypedArray();
  assert.equal(data.length, expected.values.length, `${label}: number of values`);
  for (let i = 0; i < data.length; i++) {
    const want = expected.values[i] as number | string;
    if (actual.dtype === 'int64') {
      assert.equal((data[i] as bigint).toString(), want, `${label}[${i}]`);
    } else {
      const value = typeof want === 'string' ? SPECIAL[want] : want;
      assert.ok(Object.is(data[i], value), `${label}[${i}]: got ${String(data[i])}, expected ${String(want)}`);
    }
  }
}

/** Asserts that `record` holds exactly the expected tensors, in the same order, with exact values. */
export function assertRecord(
  record: Record<string, Tensor>,
  expected: Record<string, ExpectedTensor>,
  label: string,
): void {
  assert.deepEqual(Object.keys(record), Object.keys(expected), `${label}: tensor names`);
  for (const [name, want] of Object.entries(expected)) assertExact(record[name] as Tensor, want, `${label} ${name}`);
}

/** Runs fn and asserts it throws a one-line FormatError whose message contains every fragment. */
export function assertFormatError(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (e: Error) => {
    assert.equal(e.name, 'FormatError', `expected a FormatError, got ${e.name}: ${e.message}`);
    assert.ok(!e.message.includes('\n'), `the message spans lines: ${e.message}`);
    for (const f of fragments) assert.ok(e.message.includes(f), `message '${e.message}' lacks '${f}'`);
    return true;
  });
}
