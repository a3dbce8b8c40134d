// The result of a k-nearest-neighbour search: for each query, its k nearest gallery items, nearest first.

export interface Neighbors {
  /** Number of queries. */
  n: number;
  /** Neighbours per query. */
  k: number;
  /** Row-major [n, k] gallery indices, nearest first. */
  indices: Int32Array;
  /** Row-major [n, k] inner products (larger is nearer) or Hamming distances (smaller is nearer). */
  keys: Float32Array | Int32Array;
}

/** Neighbour lists given as rows of gallery indices (all rows the same length), e.g. for tests. */
export function neighborsFromRows(rows: readonly (readonly number[])[]): Neighbors {
  const k = rows[0]?.length ?? 0;
  const indices = new Int32Array(rows.length * k);
  rows.forEach((row, i) => {
    if (row.length !== k) throw new RangeError(`neighbour row ${i} has ${row.length} entries, row 0 has ${k}`);
    indices.set(row, i * k);
  });
  return { n: rows.length, k, indices, keys: new Float32Array(rows.length * k) };
}

/** The first `count` neighbours of query i. */
export function neighborRow(nb: Neighbors, i: number, count = nb.k): Int32Array {
  return nb.indices.subarray(i * nb.k, i * nb.k + Math.min(count, nb.k));
}
