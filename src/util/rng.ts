// A small seeded PRNG (xoshiro128**, Blackman & Vigna) whose whole state is four uint32 words, so it
// serialises to JSON and a sampler restored from that state continues the exact same sequence.
// Not for cryptography. Seeds are expanded into the state with splitmix32, as the authors recommend.

export interface RngState {
  algorithm: 'xoshiro128**';
  /** The four state words, each an unsigned 32-bit integer. */
  s: [number, number, number, number];
}

const TWO_32 = 2 ** 32;

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** splitmix32 step: returns [next state, output]. */
function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) >>> 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97) >>> 0;
  return [next, (z ^ (z >>> 15)) >>> 0];
}

export class Rng {
  #s = new Uint32Array(4);

  /** seed: a non-negative safe integer (both 32-bit halves are used). */
  constructor(seed = 0) {
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new RangeError(`Rng: seed must be a non-negative integer, got ${seed}`);
    let sm = (seed >>> 0) ^ Math.imul(Math.floor(seed / TWO_32) >>> 0, 0x85ebca6b);
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(sm);
      sm = next;
      this.#s[i] = out;
    }
    if (this.#s.every((w) => w === 0)) this.#s[0] = 1; // the all-zero state is a fixed point
  }

  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.restore(state);
    return r;
  }

  /** The next uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.#s;
    const s0 = s[0] as number;
    const s1 = s[1] as number;
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s[2] = (s[2] as number) ^ s0;
    s[3] = (s[3] as number) ^ s1;
    s[1] = s1 ^ (s[2] as number);
    s[0] = s0 ^ (s[3] as number);
    s[2] = (s[2] as number) ^ t;
    s[3] = rotl(s[3] as number, 11);
    return result;
  }

  /** Uniform on [0, 1) with 53 random bits. */
  float(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling); 1 <= n <= 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_32) throw new RangeError(`Rng.int: n must be in [1, 2^32], got ${n}`);
    const limit = TWO_32 - (TWO_32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Shuffles arr in place (Fisher-Yates) and returns it. */
  shuffle<T>(arr: T[]): T[] {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = arr[i] as T;
      arr[i] = arr[j] as T;
      arr[j] = tmp;
    }
    return arr;
  }

  /** k distinct integers drawn uniformly from [0, n), in the order drawn (partial Fisher-Yates). */
  sample(n: number, k: number): number[] {
    if (!Number.isInteger(k) || k < 0 || k > n)
      throw new RangeError(`Rng.sample: need 0 <= k <= n, got k=${k}, n=${n}`);
    const out: number[] = new Array(k);
    if (n <= 65536 || n <= 64 * k) {
      // Dense array a[i] = i: cheapest when k is a sizeable fraction of n.
      const a = new Int32Array(n);
      for (let i = 0; i < n; i++) a[i] = i;
      for (let i = 0; i < k; i++) {
        const j = i + this.int(n - i);
        out[i] = a[j] as number;
        a[j] = a[i] as number;
      }
      return out;
    }
    // The same draws over a virtual array, storing only the swapped entries (O(k) memory).
    const swapped = new Map<number, number>();
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i);
      out[i] = swapped.get(j) ?? j;
      swapped.set(j, swapped.get(i) ?? i);
    }
    return out;
  }

  state(): RngState {
    return { algorithm: 'xoshiro128**', s: [this.#s[0], this.#s[1], this.#s[2], this.#s[3]] as RngState['s'] };
  }

  restore(state: RngState): this {
    const words = state?.s;
    if (
      state?.algorithm !== 'xoshiro128**' ||
      !Array.isArray(words) ||
      words.length !== 4 ||
      !words.every((w) => Number.isInteger(w) && w >= 0 && w < TWO_32) ||
      words.every((w) => w === 0)
    ) {
      throw new RangeError('Rng.restore: expected {algorithm: "xoshiro128**", s: four uint32 words, not all zero}');
    }
    this.#s.set(words);
    return this;
  }

  clone(): Rng {
    return Rng.fromState(this.state());
  }
}
