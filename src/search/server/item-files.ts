// Which file an item id may be served from. Ids come from the index only (an unknown id is 404, whatever
// it looks like), and the file must resolve, after symbolic links, to a regular file inside the image root:
// nothing else on the disk is ever read.

import { realpathSync, statSync } from 'node:fs';
import { sep } from 'node:path';
import { excerpt } from '../../util/excerpt.js';
import type { ItemMeta, VisualSearchIndex } from '../types.js';
import { HttpError, notFound } from './http-error.js';

/** Longest id accepted (ids are relative paths or row numbers). */
export const MAX_ID_LENGTH = 4096;

/** The item of `id`, or a 400 / 404 HttpError. */
export function itemOf(index: VisualSearchIndex, id: string): ItemMeta {
  if (id.length === 0 || id.length > MAX_ID_LENGTH || id.includes('\0')) {
    throw new HttpError(400, `id: expected 1 to ${MAX_ID_LENGTH} characters without NUL`);
  }
  const item = index.item(id);
  if (!item) throw notFound(`no item with id ${excerpt(id)} in the index`);
  return item;
}

function isInside(root: string, path: string): boolean {
  return path.startsWith(root.endsWith(sep) ? root : root + sep);
}

export interface ItemFile {
  item: ItemMeta;
  path: string;
  size: number;
  mtimeMs: number;
}

/** The image file of `id`, checked to be a regular file inside the image root (also after symlinks). */
export function imageFileOf(index: VisualSearchIndex, id: string): ItemFile {
  const item = itemOf(index, id);
  const root = index.imageRootOf?.(id) ?? index.imageRoot;
  const path = index.imageFile(id);
  if (root === null || path === null) throw notFound(`item ${excerpt(id)} has no image file`);
  let real: string;
  let realRoot: string;
  try {
    real = realpathSync(path);
    realRoot = realpathSync(root);
  } catch {
    throw notFound(`the image of item ${excerpt(id)} is missing on disk`);
  }
  if (!isInside(realRoot, real)) throw notFound(`item ${excerpt(id)} has no image file inside the image root`);
  const st = statSync(real);
  if (!st.isFile()) throw notFound(`the image of item ${excerpt(id)} is not a file`);
  return { item, path: real, size: st.size, mtimeMs: st.mtimeMs };
}
