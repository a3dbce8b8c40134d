// In-memory stand-ins for the index and the query embedder, for fast API tests of the server. The fake
// embedder is a real (tiny) function of the image: the mean colour of its pixels, so a generated image
// finds its own item first, and a corrupt upload is rejected like the real embedder does (BadImageError).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import sharp from 'sharp';
import { BadImageError } from '../../../src/data/image/bad-image-error.js';
import { compileWhere } from '../../../src/search/filter.js';
import type {
  EmbedderIdentity,
  IndexStats,
  ItemMeta,
  QueryEmbedder,
  SearchHit,
  SearchRequest,
  VisualSearchIndex,
} from '../../../src/search/types.js';

export const FAKE_DIM = 4;

/** The fake embedding of a colour: (r, g, b, 64) at unit length. */
export function colourVector(r: number, g: number, b: number): Float32Array {
  const v = new Float32Array([r, g, b, 64]);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

export async function embedImageBytes(bytes: Uint8Array): Promise<Float32Array> {
  const stats = await sharp(bytes, { failOn: 'error' })
    .removeAlpha()
    .toColourspace('srgb')
    .stats()
    .catch((e: Error) => {
      throw new BadImageError('image 1', `cannot decode image (${e.message.split('\n')[0]})`);
    });
  const [r, g, b] = stats.channels.map((c) => c.mean);
  return colourVector(r ?? 0, g ?? r ?? 0, b ?? r ?? 0);
}

export interface FakeEmbedder extends QueryEmbedder {
  /** The number of images of each embed call, in order. */
  calls: number[];
  /** While set, embed calls wait for this promise. */
  gate: Promise<void> | null;
  closed: boolean;
}

export function fakeEmbedder(): FakeEmbedder {
  const e: FakeEmbedder = {
    dim: FAKE_DIM,
    calls: [],
    gate: null,
    closed: false,
    async embed(images) {
      e.calls.push(images.length);
      if (e.gate) await e.gate;
      return Promise.all(images.map((b) => embedImageBytes(b)));
    },
    async close() {
      e.closed = true;
    },
  };
  return e;
}

export interface FakeItem {
  id: string;
  path: string | null;
  label: string | null;
  colour: [number, number, number];
}

/** The colours of the fixture images: 3 labels x 4 shades. */
export function fixtureItems(): FakeItem[] {
  const base: Record<string, [number, number, number]> = {
    red: [215, 40, 40],
    green: [40, 200, 50],
    blue: [40, 50, 215],
  };
  const out: FakeItem[] = [];
  for (const [label, [r, g, b]] of Object.entries(base)) {
    for (let s = 0; s < 4; s++) {
      const path = `${label}/${label}-${s}.png`;
      out.push({ id: path, path, label, colour: [r + s * 12, g + s * 8, b - s * 7] });
    }
  }
  return out;
}

export async function solidPng(colour: [number, number, number], size = 24): Promise<Buffer> {
  const [r, g, b] = colour;
  return sharp({ create: { width: size, height: size, channels: 3, background: { r, g, b } } })
    .png()
    .toBuffer();
}

/** Writes the fixture images under root (root/red/red-0.png, ...). */
export async function writeFixtureImages(root: string, items: readonly FakeItem[]): Promise<void> {
  for (const it of items) {
    if (it.path === null) continue;
    mkdirSync(join(root, it.path, '..'), { recursive: true });
    writeFileSync(join(root, it.path), await solidPng(it.colour));
  }
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * (b[i] as number), 0);
const bits = (v: Float32Array) => Array.from(v, (x) => x > 0);

export interface FakeIndex extends VisualSearchIndex {
  /** Search calls (number of queries each). */
  searches: number[];
  closed: boolean;
}

export function fakeIndex(items: readonly FakeItem[], imageRoot: string | null): FakeIndex {
  const metas: ItemMeta[] = items.map((it) => ({ id: it.id, path: it.path, label: it.label, size: null, hash: null }));
  const vectors = items.map((it) => colourVector(...it.colour));
  const row = new Map(metas.map((m, i) => [m.id, i]));
  const root = imageRoot === null ? null : resolve(imageRoot);
  const embedder: EmbedderIdentity = {
    checkpointSha256: 'f'.repeat(64),
    checkpointPath: null,
    arch: 'fake-mean-colour',
    dim: FAKE_DIM,
    input: null,
    resize: 0,
    crop: 0,
  };
  const index: FakeIndex = {
    dir: '/nonexistent/fake-index',
    embedder,
    imageRoot: root,
    searches: [],
    closed: false,
    stats(): IndexStats {
      return {
        items: metas.length,
        dim: FAKE_DIM,
        precision: 'f32',
        backend: 'usearch',
        generation: 1,
        hnsw: { float: false, binary: false },
        bytesOnDisk: 1234,
      };
    },
    item(id) {
      const r = row.get(id);
      return r === undefined ? undefined : { ...(metas[r] as ItemMeta) };
    },
    vectorOf(id) {
      const r = row.get(id);
      return r === undefined ? undefined : (vectors[r] as Float32Array).slice();
    },
    async search(queries: readonly Float32Array[], request: SearchRequest): Promise<SearchHit[][]> {
      index.searches.push(queries.length);
      const keep = request.where ? compileWhere(request.where) : () => true;
      return queries.map((q) => {
        const qb = bits(q);
        const scored = metas
          .map((m, i) => ({ m, i }))
          .filter(({ m }) => keep(m))
          .map(({ m, i }) => {
            const v = vectors[i] as Float32Array;
            const score = request.mode === 'binary' ? bits(v).filter((b, j) => b === qb[j]).length : dot(q, v);
            return { id: m.id, path: m.path, label: m.label, score };
          });
        scored.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
        return scored.slice(0, request.k);
      });
    },
    imageFile(id) {
      const it = index.item(id);
      if (!it || it.path === null || root === null) return null;
      const p = resolve(root, it.path);
      return p.startsWith(root + sep) ? p : null;
    },
    async close() {
      index.closed = true;
    },
  };
  return index;
}
