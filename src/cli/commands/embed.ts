// `normsoftmax embed --out X.npy`: X.npy, the N x D float32 embeddings of a folder of images or a data set
// split, plus X.json next to it with the image paths and labels (what `eval --embeddings X.npy` reads).
// A contract: scripts call these flags. This file parses them; runEmbed (src/embed/run-embed.ts) does the work.
import type { Command } from 'commander';
import type { Dataset, Sample } from '../../data/types.js';
import { imageFolder } from '../../embed/image-folder.js';
import { runEmbed } from '../../embed/run-embed.js';
import { ARCHS } from '../../nn/embedder.js';
import { embeddingShard } from '../../parallel/embed-shard.js';
import { DEFAULT_DIST_TIMEOUT_SECONDS, joinJobFromEnv, tagWithRank } from '../../parallel/job.js';
import { launch, selfCommand } from '../../parallel/launcher.js';
import { UsageError } from '../../util/errors.js';
import { addDatasetOptions, openDataset, selectSplit } from '../dataset-options.js';
import { addEngineOptions, engineFromFlags } from '../engine-flag.js';
import { optionalInteger } from '../parse-flags.js';

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
  const { engine, precision, threads } = engineFromFlags(flags, { value: flags.precision }, log);
  let dataset: Dataset;
  let samples: Sample[];
  if (flags.images) ({ dataset, samples } = imageFolder(flags.images));
  else {
    dataset = openDataset({ dataset: flags.dataset as string, root: flags.root, splitFile: flags.splitFile });
    samples = selectSplit(
      dataset as Parameters<typeof selectSplit>[0],
      flags.split,
      dataset.splits.test ? 'test' : 'query',
    );
  }
  const written = await runEmbed({
    checkpoint: flags.checkpoint,
    arch: flags.arch,
    dim,
    dataset,
    samples,
    out: flags.out,
    batchSize,
    jpegDraft: flags.jpegDraft === true,
    engine,
    precision,
    threads,
    shard: job ? embeddingShard(job.parallel) : null,
    log,
  });
  if (written === null) return; // not rank 0
  console.log(`${written.rows} x ${written.dim} embeddings -> ${written.out} (paths and labels: ${written.sidecar})`);
}
