// POST /api/search: a query image (multipart field `image`, or a raw image/* body), an indexed item's id
// or a vector (JSON), plus k, mode, where. Uploads are read and checked before the search is admitted to
// the bounded queue; the embedder and the index do their work off the event loop.

import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import sharp from 'sharp';
import { sniffImage } from '../../data/image/image-kind.js';
import { excerpt } from '../../util/excerpt.js';
import type { QueryEmbedder, SearchHit, SearchRequest, VisualSearchIndex } from '../types.js';
import { type Admission, withTimeout } from './admission.js';
import type { EmbedBatcher } from './embed-batcher.js';
import { badRequest, HttpError, notFound } from './http-error.js';
import { itemOf } from './item-files.js';
import type { ServerMetrics } from './metrics.js';
import type { ServerOptions } from './options.js';
import { OPTION_FIELDS, parseJsonQuery, parseSearchOptions, parseVector } from './search-request.js';

export interface SearchDeps {
  index: VisualSearchIndex;
  embedder: QueryEmbedder | null;
  batcher: EmbedBatcher | null;
  admission: Admission;
  metrics: ServerMetrics;
  options: ServerOptions;
}

type Query = { kind: 'id'; id: string } | { kind: 'vector'; vector: Float32Array } | { kind: 'image'; bytes: Buffer };

/** Largest decoded image accepted for a query, in pixels. */
const MAX_QUERY_PIXELS = 50_000_000;

export const thumbUrl = (id: string): string => `/api/thumbs/${encodeURIComponent(id)}`;

async function readMultipart(req: FastifyRequest): Promise<{ query: Query; request: SearchRequest }> {
  const fields: Record<string, string> = {};
  let bytes: Buffer | null = null;
  for await (const part of req.parts()) {
    if (part.type === 'file') {
      if (part.fieldname !== 'image')
        throw badRequest(`unexpected file field ${excerpt(part.fieldname)}: send the image as "image"`);
      if (bytes !== null) throw badRequest('one image per search');
      bytes = await part.toBuffer();
    } else {
      if (!(OPTION_FIELDS as readonly string[]).includes(part.fieldname)) {
        throw badRequest(
          `unknown field ${excerpt(part.fieldname)}: expected image, and k, mode, where, exact, oversample`,
        );
      }
      fields[part.fieldname] = String(part.value);
    }
  }
  if (bytes === null) throw badRequest('field "image": expected an image file (multipart/form-data)');
  return { query: { kind: 'image', bytes }, request: parseSearchOptions(fields) };
}

/** 415 for something that is not an image; 400 for an image that cannot be decoded or is too large. */
async function checkImage(bytes: Buffer): Promise<void> {
  if (bytes.length === 0) throw badRequest('image: the upload is empty');
  const kind = sniffImage(bytes);
  if (kind === null) {
    throw new HttpError(415, 'image: not an image file (expected JPEG, PNG, WebP, GIF, TIFF or AVIF)');
  }
  let width = 0;
  let height = 0;
  try {
    const meta = await sharp(bytes, { failOn: 'error', limitInputPixels: MAX_QUERY_PIXELS }).metadata();
    width = meta.width ?? 0;
    height = meta.height ?? 0;
    // metadata() reads only the header: decode a tiny version to catch truncated or corrupt data.
    await sharp(bytes, { failOn: 'error', limitInputPixels: MAX_QUERY_PIXELS }).resize(8, 8).raw().toBuffer();
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    throw badRequest(`image: cannot decode this ${kind} file (${why})`);
  }
  if (width < 1 || height < 1) throw badRequest(`image: the ${kind} file has no pixels`);
}

export function registerSearchRoute(app: FastifyInstance, deps: SearchDeps): void {
  const { index, batcher, admission, metrics, options } = deps;
  const dim = index.stats().dim;

  async function readQuery(req: FastifyRequest): Promise<{ query: Query; request: SearchRequest }> {
    if (req.isMultipart()) return readMultipart(req);
    if (Buffer.isBuffer(req.body)) {
      return {
        query: { kind: 'image', bytes: req.body },
        request: parseSearchOptions(req.query as Record<string, unknown>),
      };
    }
    const { query, request } = parseJsonQuery(req.body);
    if (query.kind === 'id') return { query, request };
    return { query: { kind: 'vector', vector: parseVector(query.value, dim) }, request };
  }

  async function vectorOf(query: Query): Promise<Float32Array> {
    if (query.kind === 'vector') return query.vector;
    if (query.kind === 'id') {
      itemOf(index, query.id);
      const v = index.vectorOf(query.id);
      if (!v) throw notFound(`no vector for item ${excerpt(query.id)}`);
      return v;
    }
    if (!batcher) {
      throw badRequest('this index has no embedder for images (built from --embeddings): search by "id" or "vector"');
    }
    return batcher.embed(query.bytes);
  }

  async function execute(query: Query, request: SearchRequest): Promise<SearchHit[]> {
    const end = metrics.searchSeconds.startTimer({ kind: query.kind, mode: request.mode });
    try {
      const v = await vectorOf(query);
      const [hits] = await index.search([v], { ...request, timeoutMs: options.timeoutMs });
      return hits ?? [];
    } finally {
      end();
    }
  }

  app.post('/api/search', async (req) => {
    const started = performance.now();
    const { query, request } = await readQuery(req);
    if (query.kind === 'image') await checkImage(query.bytes);
    const hits = await withTimeout(
      admission.run(() => execute(query, request)),
      options.timeoutMs,
      'the search',
    );
    return {
      results: hits.map((h) => ({ id: h.id, path: h.path, label: h.label, score: h.score, thumb: thumbUrl(h.id) })),
      tookMs: Math.round((performance.now() - started) * 100) / 100,
    };
  });
}
