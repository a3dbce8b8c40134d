// Thumbnails of indexed images: made once with sharp (off the event loop, in libvips' threads), kept in a
// memory LRU and, when a folder is given, on disk (IDX/thumbs) across restarts. The cache key covers the
// item's content (hash, or size and mtime) and the thumbnail size, so a changed image gets a new thumbnail.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { ItemFile } from './item-files.js';

export interface Thumb {
  bytes: Buffer;
  etag: string;
  contentType: string;
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

  keyOf(f: ItemFile): string {
    const version = f.item.hash ?? `${f.size}:${Math.round(f.mtimeMs)}`;
    return createHash('sha256').update(`${f.item.id}\0${version}\0${this.size}\0webp`).digest('hex');
  }

  async get(f: ItemFile): Promise<Thumb> {
    const key = this.keyOf(f);
    const hit = this.memory.get(key);
    if (hit) {
      this.memory.delete(key);
      this.memory.set(key, hit);
      return hit;
    }
    let p = this.making.get(key);
    if (!p) {
      p = this.make(key, f.path).finally(() => this.making.delete(key));
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

  private async make(key: string, path: string): Promise<Thumb> {
    const etag = `"${key.slice(0, 32)}"`;
    const file = this.dir === null ? null : join(this.dir, key.slice(0, 2), `${key}.webp`);
    if (file && this.diskOk) {
      try {
        return { bytes: await readFile(file), etag, contentType: 'image/webp' };
      } catch {
        // not cached yet
      }
    }
    const bytes = await sharp(path, { failOn: 'error', limitInputPixels: 1e8 })
      .rotate()
      .resize(this.size, this.size, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 80 })
      .toBuffer();
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
