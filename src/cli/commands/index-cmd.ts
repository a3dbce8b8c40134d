// `normsoftmax index build|info|add|remove|compact`: a searchable index folder (docs/index-format.md) from
// images, a data set split, a CSV or precomputed vectors; and the live writes to it (src/search/live/).
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { transformForInput } from '../../data/image/transform-config.js';
import { resamplingOf } from '../../nn/input-spec.js';
import { DEFAULT_EXACT_BELOW } from '../../search/backend.js';
import { BACKENDS, parseBackend } from '../../search/backends.js';
import { runIndexBuild } from '../../search/build/run-index-build.js';
import { GRAPH_BOUNDS } from '../../search/graph-settings.js';
import { compactLine, DEFAULT_COMPACT_ABOVE } from '../../search/live/live-index.js';
import { addToIndex, compactIndex, readIdsFile, removeFromIndex } from '../../search/live/offline-writes.js';
import { liveItemCount, logAfter } from '../../search/live/replay.js';
import { MANIFEST_NAME, readManifest } from '../../search/manifest.js';
import type { EmbedderIdentity, VectorPrecision } from '../../search/types.js';
import { UsageError } from '../../util/errors.js';
import { addEngineOptions, engineFromFlags } from '../engine-flag.js';
import { optionalBounded, optionalInteger } from '../parse-flags.js';

interface BuildFlags {
  out: string;
  checkpoint?: string;
  arch?: string;
  dim?: string;
  images?: string;
  dataset?: string;
  root?: string;
  split?: string;
  splitFile?: string;
  csv?: string;
  embeddings?: string;
  meta?: string;
  precision: string;
  computePrecision?: string;
  backend?: string;
  exactBelow?: string;
  hnswM?: string;
  hnswEfConstruction?: string;
  skipBadImages?: boolean;
  batchSize?: string;
  workers?: string;
  engine?: string;
  threads?: string;
  jpegDraft?: boolean;
}

function parsePrecision(v: string): VectorPrecision {
  if (v !== 'f32' && v !== 'f16' && v !== 'i8')
    throw new UsageError(`--precision: expected f32, f16 or i8, got "${v}"`);
  return v;
}

async function build(f: BuildFlags): Promise<void> {
  const precision = parsePrecision(f.precision);
  const backend = parseBackend(f.backend) ?? 'usearch';
  const exactBelow = optionalInteger('--exact-below', f.exactBelow, DEFAULT_EXACT_BELOW, 0);
  const { m: mBounds, efConstruction: efcBounds } = GRAPH_BOUNDS;
  const hnswM = optionalBounded('--hnsw-m', f.hnswM, mBounds.min, mBounds.max);
  const hnswEfConstruction = optionalBounded(
    '--hnsw-ef-construction',
    f.hnswEfConstruction,
    efcBounds.min,
    efcBounds.max,
  );
  const dim = optionalInteger('--dim', f.dim, undefined);
  const batchSize = optionalInteger('--batch-size', f.batchSize, 64);
  const workers = optionalInteger('--workers', f.workers, undefined, 0);
  const {
    engine,
    precision: compute,
    threads,
  } = engineFromFlags(f, {
    value: f.computePrecision,
    flag: '--compute-precision',
  });
  const log = (line: string) => console.error(line);
  const r = await runIndexBuild({
    ...f,
    dim,
    precision,
    backend,
    exactBelow,
    hnswM,
    hnswEfConstruction,
    skipBadImages: f.skipBadImages === true,
    batchSize,
    workers,
    engine,
    computePrecision: compute,
    threads,
    jpegDraft: f.jpegDraft === true,
    log,
  });
  const m = r.manifest;
  const parts = [`${r.items} items`, `${r.embedded} embedded`, `${r.reused} unchanged`];
  if (r.resumed) parts.push(`${r.resumed} resumed`);
  if (r.removed) parts.push(`${r.removed} removed`);
  console.log(
    `index ${resolve(f.out)}: ${parts.join(', ')}; dim ${m.dim}, ${m.precision}, ${m.hnsw.length > 0 ? 'HNSW + exact' : 'exact search'}`,
  );
  for (const line of BACKENDS[m.backend].builtLines(m)) console.log(line);
  if (r.skipped.length > 0) {
    console.log(`skipped ${r.skipped.length} unreadable image${r.skipped.length === 1 ? '' : 's'}:`);
    for (const p of r.skipped) console.log(`  ${p}`);
  }
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** Small-input models (28x28) take images at their input size: the recorded resize and crop are unused. */
function pipelineText(e: EmbedderIdentity): string {
  if (e.input && transformForInput(e.input).resize === null)
    return `input ${e.input.size}x${e.input.size}, no resize or crop`;
  const { mode, filter } = resamplingOf(e.input);
  const how = mode === 'shorter' ? ` (shorter side, ${filter})` : filter === 'bilinear' ? '' : ` (${filter})`;
  return `resize ${e.resize}${how}, crop ${e.crop}`;
}

/**
 * A live index's writes after its generation: the live item count (the log replayed over the base rows of
 * the ids it names: the base's items read, never its vectors) and the log's records.
 */
async function liveOf(dir: string): Promise<{ items: number; logged: number } | null> {
  const m = readManifest(dir);
  const { ops } = logAfter(dir, m);
  if (ops.length === 0) return null;
  const items = await liveItemCount(m, ops, (ids) => BACKENDS[m.backend].rowsOfIds(dir, m, ids));
  return { items, logged: ops.length };
}

async function info(dir: string, o: { json?: boolean; verify?: boolean }): Promise<void> {
  const m = readManifest(dir);
  const backend = BACKENDS[m.backend];
  if (o.verify) await backend.verify(dir, m);
  const total = statSync(join(dir, MANIFEST_NAME)).size + backend.dataBytes(dir, m);
  const live = await liveOf(dir);
  if (o.json) {
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_NAME), 'utf8'));
    console.log(JSON.stringify({ ...manifest, bytesOnDisk: total, ...(live ? { live } : {}) }));
    return;
  }
  const e = m.embedder;
  const rows: [string, string][] = [
    ['index', resolve(dir)],
    ['format', `${m.format} version ${m.version} (${m.backend}), generation ${m.generation}`],
    [
      'items',
      live
        ? `${live.items} (${m.items} in generation ${m.generation}, then ${live.logged} writes in the log; index compact folds them)`
        : String(m.items),
    ],
    ['vectors', `dim ${m.dim}, ${m.precision}; binary codes ${m.codeBytes} bytes`],
    [
      'search',
      m.hnsw.length > 0
        ? `HNSW (more than ${m.exactBelow} items) and exact`
        : `exact (${m.items} <= ${m.exactBelow} items)`,
    ],
    [
      'embedder',
      e.checkpointPath
        ? `${e.checkpointPath} (${e.arch ?? '?'}, dim ${e.dim}, ${pipelineText(e)})`
        : `none (vectors from ${m.source.detail.embeddings ?? 'elsewhere'})`,
    ],
    ['checkpoint sha256', e.checkpointSha256 ?? '-'],
    ['image root', m.imageRoot ?? '-'],
    [
      'source',
      `${m.source.kind} ${Object.entries(m.source.detail)
        .map(([k, v]) => `--${k} ${v}`)
        .join(' ')}`,
    ],
    ['built', `${m.createdAt} (updated ${m.updatedAt})`],
    ['size on disk', `${formatBytes(total)}`],
  ];
  rows.push(...backend.infoRows(m));
  for (const f of m.files)
    rows.push([`  ${f.role}`, `${f.name}  ${formatBytes(f.bytes)}  sha256 ${f.sha256.slice(0, 16)}...`]);
  for (const [k, v] of rows) console.log(`${k.padEnd(18)} ${v}`);
}

interface AddFlags {
  index: string;
  images?: string;
  csv?: string;
  embeddings?: string;
  meta?: string;
  batchSize?: string;
  workers?: string;
  engine?: string;
  threads?: string;
  compactAbove?: string;
}

const log = (line: string) => console.error(line);

async function add(f: AddFlags): Promise<void> {
  const compactAbove = optionalInteger('--compact-above', f.compactAbove, DEFAULT_COMPACT_ABOVE);
  const batchSize = optionalInteger('--batch-size', f.batchSize, 64);
  const workers = optionalInteger('--workers', f.workers, undefined, 0);
  const { engine, threads } = engineFromFlags(f, { value: undefined });
  const r = await addToIndex({
    index: f.index,
    ...(f.images !== undefined ? { images: f.images } : {}),
    ...(f.csv !== undefined ? { csv: f.csv } : {}),
    ...(f.embeddings !== undefined ? { embeddings: f.embeddings } : {}),
    ...(f.meta !== undefined ? { meta: f.meta } : {}),
    batchSize,
    ...(workers !== undefined ? { workers } : {}),
    ...(f.engine !== undefined ? { engine } : {}),
    ...(threads !== undefined ? { threads } : {}),
    compactAbove,
    log,
  });
  console.log(
    `index ${resolve(f.index)}: ${r.items} items written (${r.created} new, ${r.replaced} replaced, ${r.stored} images stored); ${r.total} items`,
  );
}

async function remove(f: { index: string; id?: string[]; idsFile?: string }): Promise<void> {
  if ((f.id === undefined) === (f.idsFile === undefined))
    throw new UsageError('give the items to remove: --id ID ... or --ids-file FILE (one of the two)');
  const ids = f.id ?? readIdsFile(f.idsFile as string);
  const r = await removeFromIndex({ index: f.index, ids, log });
  if (r.missing.length > 0) {
    const shown = r.missing.slice(0, 5).map((id) => JSON.stringify(id));
    console.error(
      `not in the index (nothing to remove): ${shown.join(', ')}${r.missing.length > 5 ? ` and ${r.missing.length - 5} more` : ''}`,
    );
  }
  console.log(`index ${resolve(f.index)}: ${r.removed} items removed; ${r.total} items`);
}

async function compact(f: { index: string }): Promise<void> {
  const r = await compactIndex({ index: f.index, log });
  console.log(
    r
      ? `index ${resolve(f.index)}: ${compactLine(r)}`
      : `index ${resolve(f.index)}: nothing to compact (the log is empty)`,
  );
}

export function register(program: Command): void {
  const index = program.command('index').description('build and inspect visual-search indexes');
  const buildCmd = index
    .command('build')
    .description('embed images (or take vectors) into a searchable index folder; incremental over an existing one')
    .requiredOption('--out <dir>', 'the index folder (created, or updated incrementally)')
    .option(
      '--checkpoint <file>',
      'a normsoftmax checkpoint, torchvision .pth / .safetensors weights, or an .onnx from `normsoftmax export`',
    )
    .option('--arch <name>', 'architecture, required for bare weights')
    .option('--dim <n>', 'embedding size for bare weights (default: the backbone width)')
    .option('--images <dir>', 'every image file under this folder (recursive)')
    .option('--dataset <name>', 'a data set format (with --root and --split)')
    .option('--root <dir>', 'where the data set is')
    .option('--split <name>', 'the split to index (default test, or gallery)')
    .option('--split-file <file>', 'folder format: lines "train <class folder>" / "test <class folder>"')
    .option('--csv <file>', 'a CSV of path[,label] (paths relative to the CSV file)')
    .option('--embeddings <x.npy>', 'N x D vectors computed elsewhere (e.g. by `normsoftmax embed`)')
    .option('--meta <x.json>', 'with --embeddings: {"paths": [...], "labels": [...]} (embed\'s sidecar)')
    .option('--precision <p>', 'stored float vectors: f32, f16 or i8', 'f32')
    .option(
      '--backend <b>',
      "usearch (the folder's own files, default) or lancedb (a Lance table: filters, add/delete, versions)",
    )
    .option('--exact-below <n>', `build HNSW indexes only above this many items (default ${DEFAULT_EXACT_BELOW})`)
    .option(
      '--hnsw-m <n>',
      `HNSW links per node, ${GRAPH_BOUNDS.m.min}-${GRAPH_BOUNDS.m.max} (default the previous build's, else 16): more is better recall and more memory`,
    )
    .option(
      '--hnsw-ef-construction <n>',
      `HNSW build beam, ${GRAPH_BOUNDS.efConstruction.min}-${GRAPH_BOUNDS.efConstruction.max} (default the previous build's, else 128): more is a better graph and a slower build`,
    )
    .option('--skip-bad-images', 'leave out unreadable images (listed at the end) instead of stopping')
    .option('--batch-size <n>', 'images per batch (default 64)')
    .option(
      '--compute-precision <p>',
      'fp32 (default), bf16 (autocast: bfloat16 convolutions and matmuls, float32 embeddings; fp32 on a CPU without AVX-512 BF16 or AMX, saying why), or auto (bf16 where the CPU has AVX-512 BF16 or AMX, or on CUDA)',
    )
    .option('--workers <n>', 'image decode worker threads (default 4)')
    .option(
      '--jpeg-draft',
      "decode JPEGs at 1/2, 1/4 or 1/8 size where that still covers the resize (Pillow's Image.draft): less decoding on large photos (1.5x on 2000x1500 here); recorded in the manifest, and serve decodes queries the same way",
    );
  addEngineOptions(buildCmd).action(build);
  index
    .command('info')
    .description('print an index: manifest, counts, sizes on disk and the embedder')
    .argument('<dir>', 'the index folder')
    .option('--json', 'print the manifest as one JSON object')
    .option(
      '--verify',
      "check every file's SHA-256 against the manifest (lancedb: the table's version and item count at it)",
    )
    .action(info);
  const addCmd = index
    .command('add')
    .description(
      "put items into an index without rebuilding it: new ids are added, known ones replaced (embedded with the index's model; images stored in IDX/files/)",
    )
    .requiredOption('--index <dir>', 'the index folder')
    .option('--images <dir>', 'every image file under this folder (ids: paths relative to it)')
    .option('--csv <file>', 'a CSV of path[,label] (paths relative to the CSV file)')
    .option('--embeddings <x.npy>', "N x D vectors of the index's dimension (e.g. from `normsoftmax embed`)")
    .option('--meta <x.json>', 'with --embeddings: {"paths": [...], "labels": [...]} (embed\'s sidecar)')
    .option('--batch-size <n>', 'images per batch (default 64)')
    .option('--workers <n>', 'image decode worker threads (default 4)')
    .option(
      '--compact-above <n>',
      `compact while adding when the delta passes this many items (default ${DEFAULT_COMPACT_ABOVE})`,
    );
  addEngineOptions(addCmd).action(add);
  index
    .command('remove')
    .description('delete items from an index without rebuilding it')
    .requiredOption('--index <dir>', 'the index folder')
    .option('--id <id...>', 'the ids of the items to remove')
    .option('--ids-file <file>', 'a file of ids to remove, one a line')
    .action(remove);
  index
    .command('compact')
    .description("fold an index's write-ahead log into a new generation of its files")
    .requiredOption('--index <dir>', 'the index folder')
    .action(compact);
}
