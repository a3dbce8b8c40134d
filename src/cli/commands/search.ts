// `normsoftmax search --index IDX`: the k nearest items of query images, stored items or vectors.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { expectBackend } from '../../search/backends.js';
import { GRAPH_BOUNDS } from '../../search/graph-settings.js';
import { openIndex } from '../../search/open-index.js';
import { DEFAULT_OVERSAMPLE } from '../../search/search-checks.js';
import type { SearchHit, SearchMode, VisualSearchIndex } from '../../search/types.js';
import { InputError, UsageError } from '../../util/errors.js';
import { optionalBounded, optionalInteger } from '../parse-flags.js';

interface SearchFlags {
  index: string;
  image?: string[];
  id?: string[];
  vectors?: string;
  k: string;
  mode: string;
  oversample?: string;
  exact?: boolean;
  ef?: string;
  where?: string;
  json?: boolean;
  backend?: string;
  checkpoint?: string;
  force?: boolean;
}

interface Queries {
  names: (string | { id: string } | { row: number })[];
  vectors: Float32Array[];
}

async function readVectors(path: string, dim: number): Promise<Queries> {
  const { loadNpy } = await import('../../io/npy.js');
  const t = loadNpy(path);
  try {
    if (t.rank !== 2 || !['float32', 'float64', 'float16'].includes(t.dtype)) {
      throw new InputError(`--vectors ${path}: expected N x D float32, got ${t.dtype} [${t.shape.join(', ')}]`);
    }
    const [n, d] = t.shape as [number, number];
    if (d !== dim) throw new InputError(`--vectors ${path}: vectors have ${d} values, the index's ${dim}`);
    const all = t.to({ dtype: 'float32' }).toTypedArray() as Float32Array;
    return {
      names: Array.from({ length: n }, (_, row) => ({ row })),
      vectors: Array.from({ length: n }, (_, r) => all.slice(r * d, (r + 1) * d)),
    };
  } finally {
    t.dispose();
  }
}

async function queriesOf(f: SearchFlags, index: VisualSearchIndex): Promise<Queries> {
  const given = [f.image && '--image', f.id && '--id', f.vectors && '--vectors'].filter(Boolean);
  if (given.length !== 1)
    throw new UsageError(
      `give one kind of query: --image FILE, --id ID or --vectors Q.npy${given.length > 1 ? ` (got ${given.join(' and ')})` : ''}`,
    );
  if (f.vectors) return readVectors(f.vectors, index.stats().dim);
  if (f.id) {
    return {
      names: f.id.map((id) => ({ id })),
      vectors: f.id.map((id) => {
        const v = index.vectorOf(id);
        if (!v) throw new InputError(`--id ${id}: no such item in the index`);
        return v;
      }),
    };
  }
  const files = f.image as string[];
  const bytes = files.map((p) => {
    try {
      return new Uint8Array(readFileSync(p));
    } catch (e) {
      throw new InputError(
        `--image ${p}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
      );
    }
  });
  // Loaded for image queries only: a search by id or vector needs no model (nor libtorch on this thread).
  const { createQueryEmbedder } = await import('../../search/query-embedder.js');
  const embedder = await createQueryEmbedder(index.embedder, { checkpoint: f.checkpoint, force: f.force });
  try {
    const results = await embedder.embedSettled(bytes);
    return {
      names: files,
      vectors: results.map((r, i) => {
        if (r instanceof Error) throw new InputError(`--image ${files[i]}: ${r.message.replace(/^image \d+: /, '')}`);
        return r;
      }),
    };
  } finally {
    await embedder.close();
  }
}

function parseMode(v: string): SearchMode {
  if (v !== 'float' && v !== 'binary' && v !== 'rerank')
    throw new UsageError(`--mode: expected float, binary or rerank, got "${v}"`);
  return v;
}

function printTable(query: Queries['names'][number], hits: SearchHit[], mode: SearchMode): void {
  const name = typeof query === 'string' ? query : 'id' in query ? `id ${query.id}` : `row ${query.row}`;
  console.log(`query ${name}`);
  const width = Math.max(2, ...hits.map((h) => h.id.length));
  hits.forEach((h, i) => {
    const score = mode === 'binary' ? String(h.score) : h.score.toFixed(4);
    console.log(`  ${String(i + 1).padStart(3)}  ${score.padStart(8)}  ${h.id.padEnd(width)}  ${h.label ?? ''}`);
  });
}

async function search(f: SearchFlags): Promise<void> {
  const k = optionalInteger('-k', f.k, 10);
  const mode = parseMode(f.mode);
  const oversample = optionalInteger('--oversample', f.oversample, DEFAULT_OVERSAMPLE);
  if (f.oversample !== undefined && mode !== 'rerank') throw new UsageError('--oversample goes with --mode rerank');
  const ef = optionalBounded('--ef', f.ef, GRAPH_BOUNDS.ef.min, GRAPH_BOUNDS.ef.max);
  expectBackend(f.index, f.backend);
  const index = await openIndex(f.index, ef !== undefined ? { ef } : {});
  try {
    const q = await queriesOf(f, index);
    const results = await index.search(q.vectors, {
      k,
      mode,
      exact: f.exact === true,
      oversample,
      ...(f.where ? { where: f.where } : {}),
    });
    results.forEach((hits, i) => {
      const query = q.names[i] as Queries['names'][number];
      if (f.json) {
        const results = hits.map((h) => ({ id: h.id, path: h.path, label: h.label, score: h.score }));
        console.log(JSON.stringify({ query, results }));
      } else printTable(query, hits, mode);
    });
  } finally {
    await index.close();
  }
}

export function register(program: Command): void {
  const collect = (v: string, all: string[] = []) => [...all, v];
  program
    .command('search')
    .description('find the nearest indexed items of query images, items or vectors')
    .requiredOption('--index <dir>', 'an index folder (normsoftmax index build)')
    .option('--image <file>', 'a query image (repeatable); embedded with the index’s embedder', collect)
    .option('--id <id>', 'an indexed item as the query (repeatable)', collect)
    .option('--vectors <q.npy>', 'N x D float32 query vectors, one query per row')
    .option('-k, --k <n>', 'results per query', '10')
    .option(
      '--mode <mode>',
      'float (cosine), binary (Hamming on the codes) or rerank (binary candidates, float scores)',
      'float',
    )
    .option('--oversample <m>', `rerank: m x k binary candidates (default ${DEFAULT_OVERSAMPLE})`)
    .option('--exact', 'exact search even when the index has HNSW graphs')
    .option(
      '--ef <n>',
      `HNSW search beam, ${GRAPH_BOUNDS.ef.min}-${GRAPH_BOUNDS.ef.max} (default the index's, 64): more finds more true neighbours, slower`,
    )
    .option('--where <expr>', "a metadata filter, e.g. \"label = 'sandal' AND path LIKE 'shoes/%'\"")
    .option('--backend <b>', 'usearch or lancedb: what the index must be (it is read from its manifest)')
    .option('--json', 'one JSON object per query: {"query", "results": [{"id", "path", "label", "score"}]}')
    .option('--checkpoint <file>', 'embed --image queries with this checkpoint instead of the manifest’s')
    .option('--force', 'use a checkpoint whose SHA-256 differs from the one the index was built with')
    .action(search);
}
