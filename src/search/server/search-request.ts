// Validation of a search's parameters, from a JSON body, multipart fields or the query string. Every
// problem is a 400 naming the field and what was expected.
import { excerpt } from '../../util/excerpt.js';
import { GRAPH_BOUNDS } from '../graph-settings.js';
import type { SearchMode, SearchRequest } from '../types.js';
import { badRequest } from './http-error.js';
import { MAX_K } from './options.js';

const MODES: readonly SearchMode[] = ['float', 'binary', 'rerank'];
export const DEFAULT_K = 10;
const MAX_WHERE = 1000;
const MAX_OVERSAMPLE = 100;

/** The search options any query kind takes. */
export const OPTION_FIELDS = ['k', 'mode', 'where', 'exact', 'oversample', 'ef'] as const;

/** An integer field given as a JSON number or (from a form or query string) a decimal string. */
function integerField(name: string, v: unknown, min: number, max: number): number {
  const n = typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw badRequest(`${name}: expected an integer from ${min} to ${max}, got ${excerpt(v)}`);
  }
  return n;
}

function booleanField(name: string, v: unknown): boolean {
  if (v === true || v === 'true' || v === '1') return true;
  if (v === false || v === 'false' || v === '0') return false;
  throw badRequest(`${name}: expected true or false, got ${excerpt(v)}`);
}

/** k, mode, where, exact, oversample, ef of a search (absent fields take their defaults). */
export function parseSearchOptions(fields: Record<string, unknown>): SearchRequest {
  const k = fields.k === undefined || fields.k === '' ? DEFAULT_K : integerField('k', fields.k, 1, MAX_K);
  const modeIn = fields.mode === undefined || fields.mode === '' ? 'float' : fields.mode;
  if (typeof modeIn !== 'string' || !MODES.includes(modeIn as SearchMode)) {
    throw badRequest(`mode: expected float, binary or rerank, got ${excerpt(modeIn)}`);
  }
  const request: SearchRequest = { k, mode: modeIn as SearchMode };
  if (fields.where !== undefined && fields.where !== '') {
    if (typeof fields.where !== 'string' || fields.where.length > MAX_WHERE) {
      throw badRequest(`where: expected a filter such as "label = 'sandal'" (at most ${MAX_WHERE} characters)`);
    }
    request.where = fields.where;
  }
  if (fields.exact !== undefined && fields.exact !== '') request.exact = booleanField('exact', fields.exact);
  if (fields.oversample !== undefined && fields.oversample !== '') {
    request.oversample = integerField('oversample', fields.oversample, 1, MAX_OVERSAMPLE);
  }
  if (fields.ef !== undefined && fields.ef !== '')
    request.ef = integerField('ef', fields.ef, GRAPH_BOUNDS.ef.min, GRAPH_BOUNDS.ef.max);
  return request;
}

/** A query vector of the index's dimension: finite numbers, not all zero; returned at unit length. */
export function parseVector(v: unknown, dim: number): Float32Array {
  if (!Array.isArray(v) || v.length !== dim) {
    throw badRequest(`vector: expected an array of ${dim} numbers, got ${Array.isArray(v) ? `${v.length}` : typeof v}`);
  }
  const out = new Float32Array(dim);
  let norm = 0;
  for (let i = 0; i < dim; i++) {
    const x = v[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw badRequest(`vector: element ${i} is ${excerpt(x)}, expected a finite number`);
    }
    out[i] = x;
    norm += x * x;
  }
  if (!(norm > 0) || !Number.isFinite(norm)) throw badRequest('vector: expected a non-zero vector of finite length');
  const inv = 1 / Math.sqrt(norm);
  for (let i = 0; i < dim; i++) out[i] = (out[i] as number) * inv;
  return out;
}

export type JsonQuery = { kind: 'id'; id: string } | { kind: 'vector'; value: unknown };

/** A JSON body: {"id": ...} or {"vector": [...]}, plus options; unknown fields are refused (typos). */
export function parseJsonQuery(body: unknown): { query: JsonQuery; request: SearchRequest } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('body: expected a JSON object such as {"id": "...", "k": 10}');
  }
  const fields = body as Record<string, unknown>;
  const allowed = new Set<string>(['id', 'vector', ...OPTION_FIELDS]);
  const unknown = Object.keys(fields).filter((f) => !allowed.has(f));
  if (unknown.length > 0) {
    throw badRequest(
      `unknown field ${excerpt(unknown[0])}: expected id or vector, and k, mode, where, exact, oversample, ef`,
    );
  }
  const hasId = fields.id !== undefined;
  if (hasId === (fields.vector !== undefined)) {
    throw badRequest('give exactly one of "id" (an indexed item) or "vector" (numbers), or upload an image');
  }
  const request = parseSearchOptions(fields);
  if (hasId) {
    const id = typeof fields.id === 'number' && Number.isInteger(fields.id) ? String(fields.id) : fields.id;
    if (typeof id !== 'string') throw badRequest(`id: expected a string, got ${excerpt(fields.id)}`);
    return { query: { kind: 'id', id }, request };
  }
  return { query: { kind: 'vector', value: fields.vector }, request };
}
