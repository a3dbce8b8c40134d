// GET /api/items/:id, /api/images/:id (the original file) and /api/thumbs/:id (a cached thumbnail).
// Ids are looked up in the index; files are served only from inside its image root (item-files.ts).
import { createReadStream } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { VisualSearchIndex } from '../types.js';
import { HttpError } from './http-error.js';
import { contentTypeOfPath } from './image-sniff.js';
import { imageFileOf, itemOf } from './item-files.js';
import { thumbUrl } from './search-route.js';
import type { ThumbCache } from './thumbs.js';

type IdRequest = FastifyRequest<{ Params: { id: string } }>;

/** 304 when the client's copy is current; sets ETag either way. */
function notModified(req: FastifyRequest, reply: FastifyReply, etag: string): boolean {
  reply.header('etag', etag);
  const have = req.headers['if-none-match'];
  return typeof have === 'string' && have.split(',').some((t) => t.trim() === etag);
}

export function registerItemRoutes(app: FastifyInstance, index: VisualSearchIndex, thumbs: ThumbCache): void {
  app.get('/api/items/:id', async (req: IdRequest) => {
    const item = itemOf(index, req.params.id);
    const hasImage = item.path !== null && index.imageRoot !== null;
    const enc = encodeURIComponent(item.id);
    return {
      ...item,
      image: hasImage ? `/api/images/${enc}` : null,
      thumb: hasImage ? thumbUrl(item.id) : null,
    };
  });

  app.get('/api/images/:id', async (req: IdRequest, reply) => {
    const f = imageFileOf(index, req.params.id);
    const etag = f.item.hash ? `"${f.item.hash.slice(0, 32)}"` : `W/"${f.size}-${Math.round(f.mtimeMs)}"`;
    reply.header('cache-control', 'public, max-age=3600');
    if (notModified(req, reply, etag)) return reply.code(304).send();
    reply.header('content-type', contentTypeOfPath(f.path)).header('content-length', String(f.size));
    return reply.send(createReadStream(f.path));
  });

  app.get('/api/thumbs/:id', async (req: IdRequest, reply) => {
    const f = imageFileOf(index, req.params.id);
    const etag = `"${thumbs.keyOf(f).slice(0, 32)}"`;
    reply.header('cache-control', 'public, max-age=86400');
    if (notModified(req, reply, etag)) return reply.code(304).send();
    let thumb: Awaited<ReturnType<ThumbCache['get']>>;
    try {
      thumb = await thumbs.get(f);
    } catch (e) {
      const why = (e instanceof Error ? e.message : String(e)).split('\n')[0];
      throw new HttpError(500, `cannot make a thumbnail of item ${JSON.stringify(f.item.id)} (${why})`);
    }
    return reply.header('content-type', thumb.contentType).send(thumb.bytes);
  });
}
