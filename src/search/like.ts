// SQL LIKE without backtracking: % is any run of characters, _ exactly one character (a Unicode code point,
// as DataFusion's LIKE in the LanceDB backend), everything else itself, case-sensitive, no escape character.
// The pattern is split at its % runs into segments; the first segment must match at the start, the last at
// the end, and each one between at its leftmost place after the previous (leftmost is always safe: a later
// place only leaves less room for the rest). So a match costs at most value length x pattern length steps,
// whatever the pattern: no pattern can make it exponential, as a backtracking regular expression can.

/** One segment's code points; null stands for _ (any one code point). */
type Segment = readonly (string | null)[];

/** A value as code points: the string itself when it has no surrogates (one code unit each), else an array. */
type CodePoints = string | readonly string[];

const SURROGATE = /[\uD800-\uDFFF]/;

function segmentOf(text: string): Segment {
  return Array.from(text, (ch) => (ch === '_' ? null : ch));
}

function matchesAt(value: CodePoints, seg: Segment, at: number): boolean {
  if (at < 0 || at + seg.length > value.length) return false;
  for (let j = 0; j < seg.length; j++) {
    const want = seg[j];
    if (want !== null && value[at + j] !== want) return false;
  }
  return true;
}

/** The leftmost place >= from where seg matches, or -1. */
function find(value: CodePoints, seg: Segment, literal: string | null, from: number): number {
  if (literal !== null && typeof value === 'string') return value.indexOf(literal, from);
  for (let at = from; at + seg.length <= value.length; at++) if (matchesAt(value, seg, at)) return at;
  return -1;
}

/** A predicate for a LIKE pattern (as written, without quotes). */
export function likeMatcher(pattern: string): (value: string) => boolean {
  const texts = pattern.split('%');
  const segs = texts.map(segmentOf);
  // A segment without _ and without surrogates can be found with indexOf on a surrogate-free value.
  const literals = texts.map((t) => (t.includes('_') || SURROGATE.test(t) ? null : t));
  const first = segs[0] as Segment;
  const last = segs[segs.length - 1] as Segment;
  return (raw: string): boolean => {
    const value: CodePoints = SURROGATE.test(raw) ? Array.from(raw) : raw;
    if (segs.length === 1) return value.length === first.length && matchesAt(value, first, 0);
    if (!matchesAt(value, first, 0)) return false;
    let pos = first.length;
    const end = value.length - last.length;
    if (end < pos) return false;
    for (let s = 1; s < segs.length - 1; s++) {
      const seg = segs[s] as Segment;
      if (seg.length === 0) continue;
      const at = find(value, seg, literals[s] ?? null, pos);
      if (at < 0 || at + seg.length > end) return false;
      pos = at + seg.length;
    }
    return matchesAt(value, last, end);
  };
}
