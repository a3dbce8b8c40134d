// Shared set-up of the server tests: fixture images in a temporary folder, multipart bodies for inject.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createSearchServer } from '../../../src/search/server/app.js';
import type { ServerOptions } from '../../../src/search/server/options.js';
import {
  type FakeEmbedder,
  type FakeIndex,
  type FakeItem,
  fakeEmbedder,
  fakeIndex,
  fixtureItems,
  writeFixtureImages,
} from './fake-index.js';

export interface Fixture {
  root: string;
  items: FakeItem[];
  index: FakeIndex;
  embedder: FakeEmbedder;
  app: FastifyInstance;
}

export async function fixtureImages(): Promise<{ root: string; items: FakeItem[] }> {
  const root = mkdtempSync(join(tmpdir(), 'nsm-serve-'));
  const items = fixtureItems();
  await writeFixtureImages(join(root, 'images'), items);
  return { root, items };
}

export async function fixtureServer(options: Partial<ServerOptions> = {}, withEmbedder = true): Promise<Fixture> {
  const { root, items } = await fixtureImages();
  const index = fakeIndex(items, join(root, 'images'));
  const embedder = fakeEmbedder();
  const app = createSearchServer({
    index,
    embedder: withEmbedder ? embedder : null,
    options: { batchWindowMs: 2, ...options },
    log: () => {},
  });
  await app.ready();
  return { root, items, index, embedder, app };
}

/** A multipart/form-data body with text fields and at most one file. */
export function multipart(
  fields: Record<string, string>,
  file?: { field?: string; bytes: Uint8Array; filename?: string; type?: string },
): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----nsm${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) {
    chunks.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  }
  if (file) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\ncontent-disposition: form-data; name="${file.field ?? 'image'}"; filename="${file.filename ?? 'q.png'}"\r\ncontent-type: ${file.type ?? 'image/png'}\r\n\r\n`,
      ),
      Buffer.from(file.bytes),
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

export interface SearchAnswer {
  results: { id: string; path: string | null; label: string | null; score: number; thumb: string }[];
  tookMs: number;
}
