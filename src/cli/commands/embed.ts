// `normsoftmax embed --out X.npy`: X.npy, the N x D float32 embeddings of a folder of images or a data set
// split, plus X.json next to it with the image paths and labels (what `eval --embeddings X.npy` reads).
// A contract: scripts call these flags.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { IMAGE_FILE_EXTENSIONS } from '../../data/image/image-kind.js';
import type { Dataset, Sample } from '../../data/types.js';
import { resolveWeights } from '../../data/weights/index.js';
import { embedSamples, pipelineOf } from '../../embed/embed-samples.js';
import { embedSharded } from '../../embed/embed-shard.js';
import { openEngine } from '../../embed/open-engine.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { saveNpy } from '../../io/npy.js';
import { ARCHS } from '../../nn/embedder.js';
import { embeddingShard } from '../../parallel/embed-shard.js';
import { DEFAULT_DIST_TIMEOUT_SECONDS, joinJobFromEnv, tagWithRank } from '../../parallel/job.js';
import { launch, selfCommand } from '../../parallel/launcher.js';
import { tensor } from '../../tensor/index.js';
import { InputError, UsageError } from '../../util/errors.js';
import { addDatasetOptions, openDataset, selectSplit } from '../dataset-options.js';
import { addEngineOptions, engineFromFlags } from '../engine-flag.js';
import { sidecarPath } from '../eval-files.js';
import { optionalInteger } from '../parse-flags.js';

/** Every image under dir (recursively), sorted by path; label = index of its folder among sorted folders. */
export function folderSamples(dir: string): Sample[] {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new InputError(`--images ${dir}: not a directory`);
  const files: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (IMAGE_FILE_EXTENSIONS.has(extname(name).toLowerCase())) files.push(p);
    }
  };
  walk(root);
  files.sort();
  if (files.length === 0) throw new InputError(`--images ${dir}: no images (jpg, png, webp, ...) found`);
  const folders = [...new Set(files.map((f) => f.slice(0, f.lastIndexOf('/'))))].sort();
  return files.map((path) => ({ path, label: folders.indexOf(path.slice(0, path.lastIndexOf('/'))) }));
}

interface EmbedFlags {
  checkpoint: string;
  arch?: string;
  dim?: string;
  images?: string;
  dataset?: string;
  root?: string;
  split?: string;
  splitFile?: string;
  out: string;
  batchSize?: string;
  precision?: string;
  jpegDraft?: boolean;
  engine?: string;
  threads?: string;
  nprocPerNode?: string;
  masterAddr?: string;
  masterPort?: string;
  distTimeout?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('embed')
    .description('embed images with a trained checkpoint (or bare backbone weights) into an N x D .npy')
    .requiredOption(
      '--checkpoint <file>',
      'a normsoftmax checkpoint, torchvision .pth / .safetensors weights, or an .onnx from `normsoftmax export` (onnxruntime)',
    )
    .option('--arch <name>', `architecture of bare weights: ${ARCHS.join(', ')}`)
    .option('--dim <n>', 'embedding size for bare weights (default: the backbone width)')
    .option('--images <dir>', 'embed every image under this folder (sorted by path)')
    .requiredOption('--out <X.npy>', 'output .npy; X.json next to it gets the image paths and labels')
    .option('--batch-size <n>', 'images per batch (default 64)')
    .option(
      '--jpeg-draft',
      "decode JPEGs at 1/2, 1/4 or 1/8 size where that still covers the resize (Pillow's Image.draft): less decoding on large photos (1.5x on 2000x1500 here), pixels as Pillow's draft",
    )
    .option(
      '--precision <p>',
      'fp32 (default), bf16 (autocast: bfloat16 convolutions and matmuls, float32 embeddings; fp32 on a CPU without AVX-512 BF16 or AMX, saying why), or auto (bf16 where the CPU has AVX-512 BF16 or AMX, or on CUDA)',
    );
  addEngineOptions(cmd);
  cmd
    .option('--nproc-per-node <n>', 'data-parallel: n processes on this machine, each embeds a slice (torchrun-style)')
    .option('--master-addr <host>', 'with --nproc-per-node: the host of rank 0 (default 127.0.0.1)')
    .option('--master-port <port>', 'with --nproc-per-node: the port of the rendezvous store (default 29500)')
    .option(
      '--dist-timeout <s>',
      `data-parallel: seconds a rank waits for the others (default ${DEFAULT_DIST_TIMEOUT_SECONDS})`,
    );
  addDatasetOptions(cmd, { splitHelp: 'split to embed (default test; In-Shop: query or gallery)' });
  // --dataset is required by addDatasetOptions; here --images is the alternative.
  const datasetOption = cmd.options.find((o) => o.long === '--dataset');
  if (datasetOption) datasetOption.mandatory = false;
  cmd.action(async (flags: EmbedFlags) => {
    if (flags.nprocPerNode !== undefined) {
      // The launcher: this process starts the ranks (this command under torchrun's variables) and waits.
      process.exitCode = await launch({
        nprocPerNode: optionalInteger('--nproc-per-node', flags.nprocPerNode, 1) as number,
        nnodes: 1,
        nodeRank: 0,
        masterAddr: flags.masterAddr ?? '127.0.0.1',
        masterPort: optionalInteger('--master-port', flags.masterPort, 29500) as number,
        threads: optionalInteger('--threads', flags.threads, 0) as number,
        argv: selfCommand(),
      });
      return;
    }
    // A rank of a data-parallel job when torchrun's variables say so: rank 0 alone speaks and writes.
    const timeout = optionalInteger('--dist-timeout', flags.distTimeout, DEFAULT_DIST_TIMEOUT_SECONDS) as number;
    const job = await joinJobFromEnv(timeout);
    try {
      await embedCommand(flags, job);
    } catch (e) {
      throw job ? tagWithRank(e, job.env.rank) : e;
    } finally {
      job?.pg.destroy();
    }
  });
}

type Job = Awaited<ReturnType<typeof joinJobFromEnv>>;

async function embedCommand(flags: EmbedFlags, job: Job): Promise<void> {
  const main = job === null || job.env.rank === 0;
  const log = (line: string) => {
    if (main) console.error(line);
  };
  if (!/\.npy$/i.test(flags.out)) throw new UsageError(`--out ${flags.out}: expected a .npy file name`);
  if (!flags.images === !flags.dataset) throw new UsageError('give either --images DIR or --dataset NAME --root DIR');
  const dim = optionalInteger('--dim', flags.dim, undefined);
  const batchSize = optionalInteger('--batch-size', flags.batchSize, 64);
  const { engine: engineName, precision, threads } = engineFromFlags(flags, { value: flags.precision }, log);
  let dataset: Dataset;
  let samples: Sample[];
  if (flags.images) {
    samples = folderSamples(flags.images);
    dataset = { name: 'images', root: resolve(flags.images), splits: { test: samples } };
  } else {
    dataset = openDataset({ dataset: flags.dataset as string, root: flags.root, splitFile: flags.splitFile });
    samples = selectSplit(
      dataset as Parameters<typeof selectSplit>[0],
      flags.split,
      dataset.splits.test ? 'test' : 'query',
    );
  }
  // In a job, rank 0 downloads the weights and fills the ONNX cache before the others read them.
  if (job && !main) await job.parallel.barrier();
  await resolveWeights(flags.checkpoint); // downloads a weights name that is not cached yet
  const opened = await openEngine(flags.checkpoint, {
    engine: engineName,
    arch: flags.arch,
    dim,
    precision,
    threads,
    log,
  });
  if (job && main) await job.parallel.barrier();
  const { engine, description, config, input } = opened;
  log(`model: ${description}`);
  const pipeline = { ...pipelineOf(config), jpegDraft: flags.jpegDraft === true };
  if (pipeline.jpegDraft)
    log("jpeg draft: JPEGs decoded at reduced size where that still covers the resize (Pillow's draft)");
  const embed = async (mine: readonly Sample[]) => {
    try {
      return await embedSamples(engine, input, dataset, mine, {
        batchSize,
        label: 'embedding',
        pipeline,
        silent: !main,
      });
    } finally {
      engine.dispose(); // before the gather: the model is not needed there
    }
  };
  let vectors: Float32Array;
  try {
    if (job) {
      const all = await embedSharded(embeddingShard(job.parallel), samples, engine.dim, embed);
      if (all === null) return;
      vectors = all;
    } else vectors = samples.length === 0 ? new Float32Array(0) : await embed(samples);
  } finally {
    engine.dispose();
  }
  const embeddings = tensor(vectors, { shape: [samples.length, engine.dim] });
  saveNpy(flags.out, embeddings);
  const sidecar = sidecarPath(flags.out);
  writeFileAtomic(
    sidecar,
    `${JSON.stringify({ paths: samples.map((s) => s.path), labels: samples.map((s) => s.label) })}\n`,
  );
  console.log(
    `${embeddings.size(0)} x ${embeddings.size(1)} embeddings -> ${flags.out} (paths and labels: ${sidecar})`,
  );
  embeddings.dispose();
}
