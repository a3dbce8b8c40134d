// Thumbnails of indexed images: made once with sharp (off the event loop, in libvips' threads), kept in a
// memory LRU and, when a folder is given, on disk (IDX/thumbs) across restarts. The cache key covers the
// item's content (hash, or size and mtime) and the thumbnail size, so a changed image gets a new thumbnail.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sharp } from 'sharp';

export interface Thumb {
  bytes: Buffer;
  etag: string;
  contentType: string;
}

/** What a thumbnail is made from (item-images.ts). */
export interface ThumbSource {
  id: string;
  /** Identifies the content: the item's hash, or its file's size and mtime. */
  version: string;
  /** A sharp pipeline over the original image. */
  open: () => Sharp;
  /**
   * The size of a pixel image of an in-memory data set (28 x 28): enlarged by a whole factor with nearest
   * neighbour to fit the thumbnail, so that it stays sharp. Absent for files (never enlarged).
   */
  pixels?: { width: number; height: number };
}

export class ThumbCache {
  private readonly memory = new Map<string, Thumb>();
  private readonly making = new Map<string, Promise<Thumb>>();
  private diskOk: boolean;

  constructor(
    private readonly size: number,
    private readonly maxEntries: number,
    private readonly dir: string | null,
  ) {
    this.diskOk = dir !== null;
  }

  keyOf(s: ThumbSource): string {
    const kind = s.pixels ? 'pixels\0webp' : 'webp';
    return createHash('sha256').update(`${s.id}\0${s.version}\0${this.size}\0${kind}`).digest('hex');
  }

  async get(s: ThumbSource): Promise<Thumb> {
    const key = this.keyOf(s);
    const hit = this.memory.get(key);
    if (hit) {
      this.memory.delete(key);
      this.memory.set(key, hit);
      return hit;
    }
    let p = this.making.get(key);
    if (!p) {
      p = this.make(key, s).finally(() => this.making.delete(key));
      this.making.set(key, p);
    }
    const thumb = await p;
    this.remember(key, thumb);
    return thumb;
  }

  private remember(key: string, thumb: Thumb): void {
    this.memory.set(key, thumb);
    while (this.memory.size > this.maxEntries) {
      const oldest = this.memory.keys().next().value as string;
      this.memory.delete(oldest);
    }
  }

  private resized(s: ThumbSource): Sharp {
    if (s.pixels) {
      const f = Math.max(1, Math.floor(this.size / Math.max(s.pixels.width, s.pixels.height)));
      return s.open().resize(s.pixels.width * f, s.pixels.height * f, { kernel: 'nearest' });
    }
    return s.open().rotate().resize(this.size, this.size, { fit: 'inside', withoutEnlargement: true });
  }

  private async make(key: string, s: ThumbSource): Promise<Thumb> {
    const etag = `"${key.slice(0, 32)}"`;
    const file = this.dir === null ? null : join(this.dir, key.slice(0, 2), `${key}.webp`);
    if (file && this.diskOk) {
      try {
        return { bytes: await readFile(file), etag, contentType: 'image/webp' };
      } catch {
        // not cached yet
      }
    }
    const bytes = await this.resized(s).webp({ quality: 80 }).toBuffer();
    if (file && this.diskOk) {
      try {
        await mkdir(join(file, '..'), { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        await writeFile(tmp, bytes);
        await rename(tmp, file);
      } catch {
        this.diskOk = false; // a read-only index: memory only from now on
      }
    }
    return { bytes, etag, contentType: 'image/webp' };
  }
}
