// The picture of an indexed item: its file inside the image root (item-files.ts), or, for items of an
// in-memory data set, its pixels (dataset-pixels.ts) rendered by sharp. Either way the id must be an
// indexed item's: nothing else is ever read.

import sharp from 'sharp';
import { contentTypeOfPath } from '../../data/image/image-kind.js';
import type { RawImage } from '../../data/types.js';
import { excerpt } from '../../util/excerpt.js';
import type { ItemMeta, VisualSearchIndex } from '../types.js';
import type { DatasetPixels } from './dataset-pixels.js';
import { notFound } from './http-error.js';
import { type ItemFile, imageFileOf, itemOf } from './item-files.js';
import type { ThumbSource } from './thumbs.js';

export type ItemImage =
  | { kind: 'file'; item: ItemMeta; file: ItemFile }
  | { kind: 'pixels'; item: ItemMeta; raw: RawImage };

const SHARP_LIMITS = { failOn: 'error', limitInputPixels: 1e8 } as const;

/** The item of `id` and where its picture comes from, or a 400 / 404 HttpError. */
export function itemImageOf(index: VisualSearchIndex, pixels: DatasetPixels | null, id: string): ItemImage {
  const item = itemOf(index, id);
  if (item.path === null && pixels !== null) {
    const raw = pixels.raw(item);
    if (!raw)
      throw notFound(
        `item ${excerpt(id)}: its pixels in ${pixels.description} differ from the indexed ones (rebuild the index)`,
      );
    return { kind: 'pixels', item, raw };
  }
  return { kind: 'file', item, file: imageFileOf(index, id) };
}

/** Whether the item has a picture to serve (without reading a file). */
export function hasImage(index: VisualSearchIndex, pixels: DatasetPixels | null, item: ItemMeta): boolean {
  if (item.path === null) return pixels !== null && pixels.raw(item) !== null;
  return item.stored === true || index.imageRoot !== null;
}

const rawInput = (raw: RawImage) => ({
  raw: { width: raw.width, height: raw.height, channels: raw.channels },
});

export function thumbSourceOf(image: ItemImage): ThumbSource {
  if (image.kind === 'pixels') {
    const { raw, item } = image;
    return {
      id: item.id,
      version: item.hash ?? `pixels:${raw.width}x${raw.height}`,
      open: () => sharp(raw.data, rawInput(raw)),
      pixels: { width: raw.width, height: raw.height },
    };
  }
  const f = image.file;
  return {
    id: f.item.id,
    version: f.item.hash ?? `${f.size}:${Math.round(f.mtimeMs)}`,
    open: () => sharp(f.path, SHARP_LIMITS),
  };
}

/** PNG of an item's pixels (the original of an in-memory data set item). */
export function pngOfPixels(raw: RawImage): Promise<Buffer> {
  const image = sharp(raw.data, rawInput(raw));
  return (raw.channels === 1 ? image.toColourspace('b-w') : image).png().toBuffer();
}

export function contentTypeOf(image: ItemImage): string {
  return image.kind === 'pixels' ? 'image/png' : contentTypeOfPath(image.file.path);
}
