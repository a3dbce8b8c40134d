// In-browser embedding: the index's model as ONNX (GET /api/model.onnx, with an ETag) and onnxruntime-web's
// WASM runtime from our own node_modules (GET /ort/FILE: only the three files the page loads), so that the
// search page can embed a dropped image on the user's machine and send only the vector. No CDN.

import { createReadStream, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Preprocessing } from '../../embed/onnx/index.js';
import { onnxModelInfo, readOnnxMetadata } from '../../embed/onnx-metadata.js';
import { excerpt } from '../../util/excerpt.js';
import { notFound } from './http-error.js';

export interface BrowserModel {
  bytes: Uint8Array;
  /** SHA-256 of the model file (hex): its ETag. */
  sha256: string;
  arch: string | null;
  dim: number;
  preprocessing: Preprocessing;
}

/** Pages turn in-browser embedding on by default for models up to this size. */
export const BROWSER_EMBED_DEFAULT_MAX_BYTES = 100 * 1024 * 1024;

export function browserModelOf(bytes: Uint8Array, sha256: string, name: string): BrowserModel {
  const info = onnxModelInfo(readOnnxMetadata(bytes, name), name);
  return { bytes, sha256, arch: info.arch, dim: info.dim, preprocessing: info.preprocessing };
}

/** What /api/info says about it (null: the page embeds on the server only). */
export function browserModelInfo(m: BrowserModel | null) {
  if (m === null) return null;
  return {
    model: '/api/model.onnx',
    runtime: '/ort/',
    bytes: m.bytes.length,
    sha256: m.sha256,
    arch: m.arch,
    dim: m.dim,
    preprocessing: m.preprocessing,
    defaultOn: m.bytes.length < BROWSER_EMBED_DEFAULT_MAX_BYTES,
  };
}

const ORT_FILES: Record<string, string> = {
  'ort.wasm.min.mjs': 'text/javascript; charset=utf-8',
  'ort-wasm-simd-threaded.mjs': 'text/javascript; charset=utf-8',
  'ort-wasm-simd-threaded.wasm': 'application/wasm',
};

function ortDist(): string | null {
  try {
    // The package's main file lies in dist/ (its exports map hides package.json).
    return dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
  } catch {
    return null;
  }
}

export function registerBrowserModelRoutes(app: FastifyInstance, model: BrowserModel | null): void {
  app.get('/api/model.onnx', async (req, reply) => {
    if (model === null)
      throw notFound('no model for in-browser embedding (serve --no-browser-embed, or no checkpoint)');
    const etag = `"${model.sha256}"`;
    reply.header('etag', etag).header('cache-control', 'no-cache');
    if (req.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.header('content-type', 'application/octet-stream').send(Buffer.from(model.bytes));
  });
  const dist = ortDist();
  app.get<{ Params: { file: string } }>('/ort/:file', async (req, reply) => {
    const type = ORT_FILES[req.params.file];
    const path = dist && type ? join(dist, req.params.file) : null;
    if (!path || !type || !existsSync(path)) throw notFound(`no such runtime file: ${excerpt(req.params.file)}`);
    return reply
      .header('content-type', type)
      .header('cache-control', 'public, max-age=86400')
      .send(createReadStream(path));
  });
}
