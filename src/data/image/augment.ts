// Seeded augmentation draws. Every image gets its own numbers from a counter-based hash of
// (seed, epoch, batch index, position in batch), so a run resumed at any batch, or decoded in any order
// by any number of workers, sees exactly the same crops and flips.

export interface AugmentKey {
  seed: number;
  epoch: number;
  batch: number;
  position: number;
}

/** Three uniforms in [0, 1): crop row, crop column, flip. */
export type AugmentDraws = readonly [number, number, number];

// murmur3's 32-bit finaliser: a bijection with full avalanche.
function fmix32(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

function combine(h: number, v: number): number {
  return fmix32((h ^ fmix32(Math.imul(v >>> 0, 0x9e3779b1) + 0x7f4a7c15)) + 0x165667b1);
}

function checkKeyPart(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0)
    throw new RangeError(`augment: ${name} must be a non-negative integer, got ${v}`);
}

export function augmentDraws(key: AugmentKey): AugmentDraws {
  checkKeyPart('seed', key.seed);
  checkKeyPart('epoch', key.epoch);
  checkKeyPart('batch', key.batch);
  checkKeyPart('position', key.position);
  let h = combine(0x2545f491, key.seed);
  h = combine(h, Math.floor(key.seed / 0x100000000));
  h = combine(h, key.epoch);
  h = combine(h, key.batch);
  h = combine(h, key.position);
  const draw = (k: number) => combine(h, k) / 0x100000000;
  return [draw(1), draw(2), draw(3)];
}

/** An integer uniformly in [0, n) from a uniform u in [0, 1). */
export function drawInt(u: number, n: number): number {
  return Math.min(n - 1, Math.floor(u * n));
}
