// The write routes of a writable server (`serve --writable`): PUT /api/items/:id creates or replaces an item
// (an image, as multipart field `image` or a raw image/* body, embedded with the index's model and stored in
// the index folder; or JSON {"vector": [...]} for an index built from embeddings), with an optional label
// and meta (its fields); DELETE /api/items/:id; POST /api/compact. Every one needs the bearer token
// (write-token.ts), checked before the body is read. An answer comes once the write is durable (the
// index's log fsynced), and whatever starts after it sees the write.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BadImageError } from '../../data/image/bad-image-error.js';
import { sniffImage } from '../../data/image/image-kind.js';
import { isDiskFull } from '../../io/disk-full.js';
import { excerpt } from '../../util/excerpt.js';
import { checkItemFields } from '../item-fields.js';
import type { IndexWriter, ItemFields, ItemMeta, VisualSearchIndex } from '../types.js';
import type { Admission } from './admission.js';
import type { DatasetPixels } from './dataset-pixels.js';
import type { EmbedBatcher } from './embed-batcher.js';
import { badRequest, HttpError, notFound } from './http-error.js';
import { readImageForm } from './image-form.js';
import { MAX_ID_LENGTH } from './item-files.js';
import { itemJson } from './item-routes.js';
import type { ServerMetrics } from './metrics.js';
import type { ServerOptions } from './options.js';
import { parseVector } from './search-request.js';
import { checkImage } from './search-route.js';
import { requireWriteToken } from './write-token.js';

export interface WriteDeps {
  index: VisualSearchIndex;
  writer: IndexWriter;
  batcher: EmbedBatcher | null;
  admission: Admission;
  metrics: ServerMetrics;
  options: ServerOptions;
  pixels: DatasetPixels | null;
  token: string;
}

const MAX_LABEL = 1000;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const PUT_FIELDS = ['label', 'meta'] as const;

type Body = { kind: 'image'; bytes: Buffer } | { kind: 'vector'; value: unknown };
interface PutRequest {
  body: Body;
  label: string | null;
  meta: ItemFields | undefined;
}

/** An id a write may use: what the read routes accept, and valid Unicode (the log and Lance keep UTF-8). */
function writableId(id: string): string {
  if (id.length === 0 || id.length > MAX_ID_LENGTH || id.includes('\0'))
    throw badRequest(`id: expected 1 to ${MAX_ID_LENGTH} characters without NUL`);
  if (LONE_SURROGATE.test(id)) throw badRequest('id: not valid Unicode (a lone surrogate)');
  return id;
}

function labelOf(v: unknown): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string' || v.length > MAX_LABEL || v.includes('\0') || LONE_SURROGATE.test(v))
    throw badRequest(`label: expected a string of at most ${MAX_LABEL} characters, got ${excerpt(v, 40)}`);
  return v;
}

/** meta as a JSON object, or (from a form or query string) its JSON text. */
function metaOf(v: unknown): ItemFields | undefined {
  if (v === undefined || v === '') return undefined;
  let value = v;
  if (typeof v === 'string') {
    try {
      value = JSON.parse(v);
    } catch {
      throw badRequest('meta: expected a JSON object such as {"color": "red", "price": 12}');
    }
  }
  const fields = checkItemFields(value, 'meta');
  if (typeof fields === 'string') throw badRequest(fields);
  return fields;
}

function refuseUnknown(fields: Record<string, unknown>, allowed: readonly string[], what: string): void {
  const unknown = Object.keys(fields).filter((f) => !allowed.includes(f));
  if (unknown.length > 0) throw badRequest(`unknown field ${excerpt(unknown[0])}: expected ${what}`);
}

async function readMultipart(req: FastifyRequest): Promise<PutRequest> {
  const { bytes, fields } = await readImageForm(req, PUT_FIELDS, 'item');
  return { body: { kind: 'image', bytes }, label: labelOf(fields.label), meta: metaOf(fields.meta) };
}

async function readPut(req: FastifyRequest): Promise<PutRequest> {
  if (req.isMultipart()) return readMultipart(req);
  const query = req.query as Record<string, unknown>;
  if (Buffer.isBuffer(req.body)) {
    refuseUnknown(query, PUT_FIELDS, 'label, meta in the query string');
    return { body: { kind: 'image', bytes: req.body }, label: labelOf(query.label), meta: metaOf(query.meta) };
  }
  const b = req.body;
  if (b === null || typeof b !== 'object' || Array.isArray(b))
    throw badRequest('body: expected an image (multipart field "image", or an image/* body) or JSON {"vector": [...]}');
  const fields = b as Record<string, unknown>;
  refuseUnknown(fields, ['vector', ...PUT_FIELDS], 'vector, label, meta');
  if (fields.vector === undefined) throw badRequest('vector: expected an array of numbers (or send an image)');
  return { body: { kind: 'vector', value: fields.vector }, label: labelOf(fields.label), meta: metaOf(fields.meta) };
}

/** A write that fails for lack of space is the operator's to fix: 507, and nothing of the write was made. */
async function durably<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    if (isDiskFull(e))
      throw new HttpError(507, 'the index folder is full (no space left on device): the write was not made');
    throw e;
  }
}

export function registerWriteRoutes(app: FastifyInstance, d: WriteDeps): void {
  const { index, writer, batcher, admission, metrics, options } = d;
  const dim = index.stats().dim;
  const onRequest = requireWriteToken(d.token);

  /** The item and vector of a put; an image stored in the index folder is held until `release`. */
  async function itemOfPut(
    id: string,
    p: PutRequest,
  ): Promise<{ item: ItemMeta; vector: Float32Array; release: () => void }> {
    const common = { id, label: p.label, ...(p.meta !== undefined ? { meta: p.meta } : {}) };
    if (p.body.kind === 'vector') {
      return {
        item: { ...common, path: null, size: null, hash: null },
        vector: parseVector(p.body.value, dim),
        release: () => {},
      };
    }
    const bytes = p.body.bytes;
    if (!batcher) throw badRequest('this index has no model for images (built from --embeddings): put a "vector"');
    await checkImage(bytes, options.maxPixels);
    let vector: Float32Array;
    try {
      vector = await admission.run(() => batcher.embed(bytes));
    } catch (e) {
      throw e instanceof BadImageError ? badRequest(`image: ${e.reason.split('\n')[0]}`) : e;
    }
    const stored = await durably(() => writer.storeImage(bytes, sniffImage(bytes) ?? 'png'));
    return {
      item: { ...common, path: stored.path, size: stored.size, hash: stored.hash, stored: true },
      vector,
      release: stored.release,
    };
  }

  app.put<{ Params: { id: string } }>('/api/items/:id', { onRequest }, async (req, reply) => {
    const id = writableId(req.params.id);
    const p = await readPut(req);
    const { item, vector, release } = await itemOfPut(id, p);
    let r: Awaited<ReturnType<typeof writer.put>>;
    try {
      r = await durably(() => writer.put(item, vector));
    } finally {
      release();
    }
    metrics.writes.inc({ op: 'put', result: r.created ? 'created' : 'replaced' });
    return reply.code(r.created ? 201 : 200).send(itemJson(index, d.pixels, r.item));
  });

  app.delete<{ Params: { id: string } }>('/api/items/:id', { onRequest }, async (req) => {
    const id = writableId(req.params.id);
    if (!(await durably(() => writer.remove(id)))) throw notFound(`no item with id ${excerpt(id)} in the index`);
    metrics.writes.inc({ op: 'delete', result: 'deleted' });
    return { id, deleted: true };
  });

  app.post('/api/compact', { onRequest }, async (req) => {
    if (req.body !== undefined && req.body !== null && Object.keys(req.body as object).length > 0)
      throw badRequest('body: expected none');
    const r = await writer.compact();
    if (r === null) return { compacted: false, generation: index.stats().generation, items: index.stats().items };
    return { compacted: true, generation: r.generation, items: r.items, folded: r.folded, seconds: r.seconds };
  });
}
