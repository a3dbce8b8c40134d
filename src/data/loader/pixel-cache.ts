// A least-recently-used cache of resized images (uint8), bounded in bytes. Lets small data sets skip
// decoding and resizing after the first epoch.
import type { Pixels } from '../image/pixels.js';

export class PixelCache {
  private readonly entries = new Map<string, Pixels>();
  private used = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes: number) {
    if (!(maxBytes >= 0)) throw new RangeError(`pixel cache: maxBytes must be >= 0, got ${maxBytes}`);
  }

  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): Pixels | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    // Re-insert: a Map iterates in insertion order, so the first key is the least recently used.
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit;
  }

  set(key: string, pixels: Pixels): void {
    const bytes = pixels.data.byteLength;
    if (bytes > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.used -= old.data.byteLength;
      this.entries.delete(key);
    }
    while (this.used + bytes > this.maxBytes) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, Pixels];
      this.entries.delete(oldestKey);
      this.used -= oldest.data.byteLength;
    }
    this.entries.set(key, pixels);
    this.used += bytes;
  }

  clear(): void {
    this.entries.clear();
    this.used = 0;
  }
}
