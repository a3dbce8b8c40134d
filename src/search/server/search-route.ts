// POST /api/search: a query image (multipart field `image`, or a raw image/* body), an indexed item's id
// or a vector (JSON), plus k, mode, where. Uploads are read and checked before the search is admitted to
// the bounded queue; the embedder and the index do their work off the event loop.

import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import sharp from 'sharp';
import { BadImageError } from '../../data/image/bad-image-error.js';
import { readImageHeader } from '../../data/image/header.js';
import { type ImageKind, sniffImage } from '../../data/image/image-kind.js';
import { excerpt } from '../../util/excerpt.js';
import type { QueryEmbedder, SearchHit, SearchRequest, VisualSearchIndex } from '../types.js';
import { type Admission, withTimeout } from './admission.js';
import type { EmbedBatcher } from './embed-batcher.js';
import { badRequest, HttpError, notFound } from './http-error.js';
import { readImageForm } from './image-form.js';
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

export const thumbUrl = (id: string): string => `/api/thumbs/${encodeURIComponent(id)}`;

async function readMultipart(req: FastifyRequest): Promise<{ query: Query; request: SearchRequest }> {
  const { bytes, fields } = await readImageForm(req, OPTION_FIELDS, 'search');
  return { query: { kind: 'image', bytes }, request: parseSearchOptions(fields) };
}

/** The first line of an error's message. */
const whyOf = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0] as string;

/** The size sharp's metadata() reads from a header ours does not (AVIF, or one that is unusual); 400 when it cannot. */
async function sizeBySharp(bytes: Buffer, kind: ImageKind): Promise<{ width: number; height: number }> {
  try {
    const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    return { width: meta.width ?? 0, height: meta.height ?? 0 };
  } catch (e) {
    throw badRequest(`image: cannot read the header of this ${kind} file (${whyOf(e)})`);
  }
}

/**
 * 415 for something that is not an image; 400 for a header without a size; 413 above the pixel limit. Only
 * the header is read: the embedder decodes the image (a corrupt body is then a 400 from its decode).
 */
export async function checkImage(bytes: Buffer, maxPixels: number): Promise<void> {
  if (bytes.length === 0) throw badRequest('image: the upload is empty');
  const kind = sniffImage(bytes);
  if (kind === null) {
    throw new HttpError(415, 'image: not an image file (expected JPEG, PNG, WebP, GIF, TIFF or AVIF)');
  }
  const { width, height } = readImageHeader(bytes) ?? (await sizeBySharp(bytes, kind));
  if (width < 1 || height < 1) throw badRequest(`image: the ${kind} file has no pixels`);
  if (width * height > maxPixels) {
    throw new HttpError(
      413,
      `image: ${width} x ${height} pixels is above the limit of ${maxPixels.toLocaleString('en-US')} pixels (--max-pixels)`,
    );
  }
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
    try {
      return await batcher.embed(query.bytes);
    } catch (e) {
      // named after its place in the embedder's batch ("image 3: ..."): this request sent one image
      throw e instanceof BadImageError ? badRequest(`image: ${whyOf(e.reason)}`) : e;
    }
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
    if (query.kind === 'image') await checkImage(query.bytes, options.maxPixels);
    const hits = await withTimeout(
      admission.run(() => execute(query, request)),
      options.timeoutMs,
      'the search',
    );
    return {
      results: hits.map((h) => ({
        id: h.id,
        path: h.path,
        label: h.label,
        ...(h.meta !== undefined ? { meta: h.meta } : {}),
        score: h.score,
        thumb: thumbUrl(h.id),
      })),
      tookMs: Math.round((performance.now() - started) * 100) / 100,
    };
  });
}
