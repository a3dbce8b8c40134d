// Where a compaction puts each item of the next generation, so that HNSW keys (row numbers) stay dense
// and most rows keep theirs (their graph nodes are kept, not added again): the puts go first into the
// holes the tombstones left (lowest first), then after the last row; holes left over are filled by moving
// the last rows into them. The main thread (its items) and the engine worker (the files, the graphs)
// apply the same layout.

export interface CompactionLayout {
  /** Rows of the next generation. */
  n: number;
  /** The row of each put, in the order given. */
  putRows: Int32Array;
  /** Base rows that move: [from, to], `to` a hole below n, `from` a kept row at or above n. */
  moves: [number, number][];
}

export function compactionLayout(baseN: number, hidden: Iterable<number>, puts: number): CompactionLayout {
  const holes = Array.from(new Set(hidden)).sort((a, b) => a - b);
  const putRows = new Int32Array(puts);
  for (let i = 0; i < puts; i++) putRows[i] = i < holes.length ? (holes[i] as number) : baseN + (i - holes.length);
  const left = holes.slice(puts);
  const n = baseN - left.length + Math.max(0, puts - holes.length);
  const leftSet = new Set(left);
  const to = left.filter((h) => h < n);
  const from: number[] = [];
  for (let r = n; r < baseN && from.length < to.length; r++) if (!leftSet.has(r)) from.push(r);
  return { n, putRows, moves: to.map((t, i) => [from[i] as number, t]) };
}

/** The next generation's rows of a base's rows: index = new row, value = base row or -(put index + 1). */
export function sourcesOf(baseN: number, layout: CompactionLayout): Int32Array {
  const src = new Int32Array(layout.n);
  for (let r = 0; r < layout.n; r++) src[r] = r < baseN ? r : -1;
  for (const [from, to] of layout.moves) src[to] = from;
  layout.putRows.forEach((row, i) => {
    src[row] = -(i + 1);
  });
  return src;
}
