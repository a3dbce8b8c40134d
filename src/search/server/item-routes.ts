// GET /api/items/:id, /api/images/:id (the original) and /api/thumbs/:id (a cached thumbnail). Ids are
// looked up in the index; files are served only from inside its image root (item-files.ts), and items of
// in-memory data sets as PNGs of their pixels (item-images.ts).

import { createReadStream } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { excerpt } from '../../util/excerpt.js';
import type { ItemMeta, VisualSearchIndex } from '../types.js';
import type { DatasetPixels } from './dataset-pixels.js';
import { HttpError } from './http-error.js';
import { itemOf } from './item-files.js';
import { contentTypeOf, hasImage, itemImageOf, pngOfPixels, thumbSourceOf } from './item-images.js';
import { thumbUrl } from './search-route.js';
import type { ThumbCache } from './thumbs.js';

type IdRequest = FastifyRequest<{ Params: { id: string } }>;

/** 304 when the client's copy is current; sets ETag either way. */
function notModified(req: FastifyRequest, reply: FastifyReply, etag: string): boolean {
  reply.header('etag', etag);
  const have = req.headers['if-none-match'];
  return typeof have === 'string' && have.split(',').some((t) => t.trim() === etag);
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/** An item as the API shows it: its metadata and the URLs of its image and thumbnail (null without one). */
export function itemJson(
  index: VisualSearchIndex,
  pixels: DatasetPixels | null,
  item: ItemMeta,
): Record<string, unknown> {
  const image = hasImage(index, pixels, item);
  return {
    ...item,
    image: image ? `/api/images/${encodeURIComponent(item.id)}` : null,
    thumb: image ? thumbUrl(item.id) : null,
  };
}

export function registerItemRoutes(
  app: FastifyInstance,
  index: VisualSearchIndex,
  thumbs: ThumbCache,
  pixels: DatasetPixels | null,
): void {
  app.get('/api/items/:id', async (req: IdRequest) => itemJson(index, pixels, itemOf(index, req.params.id)));

  app.get('/api/images/:id', async (req: IdRequest, reply) => {
    const image = itemImageOf(index, pixels, req.params.id);
    const { item } = image;
    const etag = item.hash
      ? `"${item.hash.slice(0, 32)}"`
      : image.kind === 'file'
        ? `W/"${image.file.size}-${Math.round(image.file.mtimeMs)}"`
        : `W/"${item.id}"`;
    reply.header('cache-control', 'public, max-age=3600');
    if (notModified(req, reply, etag)) return reply.code(304).send();
    reply.header('content-type', contentTypeOf(image));
    if (image.kind === 'pixels') {
      let png: Buffer;
      try {
        png = await pngOfPixels(image.raw);
      } catch (e) {
        throw new HttpError(500, `cannot render item ${excerpt(item.id)} as PNG (${firstLine(e)})`);
      }
      return reply.send(png);
    }
    reply.header('content-length', String(image.file.size));
    return reply.send(createReadStream(image.file.path));
  });

  app.get('/api/thumbs/:id', async (req: IdRequest, reply) => {
    const source = thumbSourceOf(itemImageOf(index, pixels, req.params.id));
    const etag = `"${thumbs.keyOf(source).slice(0, 32)}"`;
    reply.header('cache-control', 'public, max-age=86400');
    if (notModified(req, reply, etag)) return reply.code(304).send();
    let thumb: Awaited<ReturnType<ThumbCache['get']>>;
    try {
      thumb = await thumbs.get(source);
    } catch (e) {
      throw new HttpError(500, `cannot make a thumbnail of item ${excerpt(source.id)} (${firstLine(e)})`);
    }
    return reply.header('content-type', thumb.contentType).send(thumb.bytes);
  });
}
