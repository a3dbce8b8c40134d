// `normsoftmax train`: the paper's recipe on any supported data set (a contract: scripts call these flags).
import { join } from 'node:path';
import type { Command } from 'commander';
import { DATASET_NAMES } from '../../data/formats/index.js';
import { formatMetricsTable } from '../../eval/format-metrics.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { acquireWriterLock } from '../../io/writer-lock.js';
import { ARCHS } from '../../nn/embedder.js';
import { DEFAULT_DIST_TIMEOUT_SECONDS, joinJobFromEnv, tagWithRank } from '../../parallel/job.js';
import { launch, selfCommand } from '../../parallel/launcher.js';
import { trainingReportHtml } from '../../report/training-report.js';
import { DEFAULTS, LOSSES, PRESETS, readConfigFile, resolveConfig, type TrainConfig } from '../../train/config.js';
import { readMetrics } from '../../train/metrics.js';
import type { DataParallel } from '../../train/parallel.js';
import { runSession } from '../../train/session.js';
import { openDataset } from '../dataset-options.js';
import { parseKList, parseNumber } from '../parse-flags.js';

type Raw = Record<string, string | boolean | undefined>;

const NUMERIC: [flag: string, key: keyof TrainConfig][] = [
  ['dim', 'dim'],
  ['batchSize', 'batchSize'],
  ['imagesPerClass', 'imagesPerClass'],
  ['lr', 'lr'],
  ['lrMult', 'lrMult'],
  ['gamma', 'gamma'],
  ['epochsPerStep', 'epochsPerStep'],
  ['numSteps', 'numSteps'],
  ['warmupEpochs', 'warmupEpochs'],
  ['temperature', 'temperature'],
  ['classFraction', 'classFraction'],
  ['margin', 'margin'],
  ['momentum', 'momentum'],
  ['weightDecay', 'weightDecay'],
  ['seed', 'seed'],
  ['evalEvery', 'evalEvery'],
  ['resize', 'resize'],
  ['crop', 'crop'],
  ['workers', 'workers'],
  ['maxBatchesPerEpoch', 'maxBatchesPerEpoch'],
  ['shift', 'shift'],
  ['threads', 'threads'],
  ['folds', 'folds'],
  ['fold', 'fold'],
];
const STRINGS: (keyof TrainConfig)[] = [
  'dataset',
  'root',
  'arch',
  'pretrained',
  'loss',
  'optimizer',
  'sampler',
  'device',
  'out',
  'nmiMethod',
  'precision',
];

const kebab = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** The flags given on the command line, as config keys (numbers parsed, errors naming the flag). */
export function flagsToConfig(raw: Raw): Partial<TrainConfig> {
  const out: Partial<Record<keyof TrainConfig, unknown>> = {};
  for (const [flag, key] of NUMERIC) {
    const v = raw[flag];
    if (v === undefined) continue;
    out[key] = parseNumber(kebab(flag), String(v));
  }
  for (const key of STRINGS) if (typeof raw[key] === 'string') out[key] = raw[key];
  if (typeof raw.k === 'string') out.k = parseKList(raw.k);
  if (raw.skipBadImages === true) out.skipBadImages = true;
  if (raw.nmi === true) out.nmi = true;
  if (raw.layerNorm === false) out.layerNorm = false;
  return out as Partial<TrainConfig>;
}

/** The training configuration of parsed flags: defaults < --preset < --config FILE < the other flags. */
export function trainConfigFromFlags(raw: Raw): TrainConfig {
  const file = typeof raw.config === 'string' ? readConfigFile(raw.config) : undefined;
  return resolveConfig({
    preset: typeof raw.preset === 'string' ? raw.preset : undefined,
    file,
    flags: flagsToConfig(raw),
  });
}

export function register(program: Command): void {
  const cmd = program
    .command('train')
    .description('train an embedder with NormSoftmax (or a baseline loss) and evaluate it zero-shot')
    .option('--preset <name>', `official hyper-parameters: ${Object.keys(PRESETS).join(', ')}`)
    .option('--config <file.json>', 'options as JSON (same keys as the flags, camelCase); flags override it')
    .option('--dataset <name>', DATASET_NAMES.join(', '))
    .option('--root <dir>', 'data set directory')
    .option('--arch <name>', `${ARCHS.join(', ')} (default ${DEFAULTS.arch})`)
    .option('--dim <n>', `embedding size (default ${DEFAULTS.dim})`)
    .option('--no-layer-norm', "drop the LayerNorm head (the paper's ablation; default: with it)")
    .option(
      '--pretrained <file|name>',
      "backbone weights: a .pth / .safetensors file or a name from `weights list` (downloaded if needed); none = from scratch (presets default to the paper's ImageNet weights)",
    )
    .option('--batch-size <n>', `images per batch (default ${DEFAULTS.batchSize})`)
    .option('--images-per-class <n>', `images per class in a batch (default ${DEFAULTS.imagesPerClass})`)
    .option('--sampler <kind>', 'balanced (default) or shuffle')
    .option('--lr <x>', `learning rate (default ${DEFAULTS.lr})`)
    .option('--lr-mult <x>', `lr multiplier of the new parameters (default ${DEFAULTS.lrMult})`)
    .option('--gamma <x>', `lr decay per step (default ${DEFAULTS.gamma})`)
    .option('--epochs-per-step <n>', `epochs between lr decays (default ${DEFAULTS.epochsPerStep})`)
    .option('--num-steps <n>', `lr steps; epochs = epochs-per-step * num-steps (default ${DEFAULTS.numSteps})`)
    .option('--warmup-epochs <n>', `epochs training only the new parameters first (default ${DEFAULTS.warmupEpochs})`)
    .option('--temperature <x>', `NormSoftmax temperature (default ${DEFAULTS.temperature})`)
    .option('--class-fraction <f>', `fraction of classes in each softmax, (0, 1] (default ${DEFAULTS.classFraction})`)
    .option('--loss <name>', `${LOSSES.join(', ')} (default ${DEFAULTS.loss})`)
    .option('--margin <x>', `triplet margin (default ${DEFAULTS.margin})`)
    .option('--optimizer <name>', 'sgd (default) or adamw')
    .option('--momentum <x>', `SGD momentum (default ${DEFAULTS.momentum})`)
    .option('--weight-decay <x>', `weight decay (default ${DEFAULTS.weightDecay})`)
    .option('--seed <n>', `random seed (default ${DEFAULTS.seed})`)
    .option('--device <d>', 'cpu (default), cuda or cuda:N')
    .option('--out <dir>', `output directory (default ${DEFAULTS.out})`)
    .option('--resume <ckpt>', 'continue from a checkpoint (OUT/last.safetensors)')
    .option('--allow-world-size-change', 'with --resume: accept a checkpoint of another data-parallel world size')
    .option('--eval-every <n>', `evaluate every n epochs (default ${DEFAULTS.evalEvery})`)
    .option('--k <list>', "Recall@K list (default: the data set's)")
    .option('--nmi', 'also compute NMI (k-means) at each evaluation')
    .option('--nmi-method <name>', "k-means behind NMI: paper (default, close to the paper's script) or sklearn")
    .option('--resize <n>', `resize images to n x n before cropping (default ${DEFAULTS.resize})`)
    .option('--crop <n>', `crop size (default ${DEFAULTS.crop})`)
    .option('--workers <n>', `images decoded in parallel (default ${DEFAULTS.workers})`)
    .option('--skip-bad-images', 'warn about and skip unreadable images instead of stopping')
    .option('--max-batches-per-epoch <n>', 'cap batches per epoch (smoke runs)')
    .option('--shift <px>', 'in-memory data sets: random translation of training images by up to px pixels (default 0)')
    .option('--threads <n>', 'CPU threads (default: all cores)')
    .option(
      '--precision <p>',
      'fp32 (default), bf16 (forward under autocast; loss, class weights and optimiser in fp32; fp32 on a CPU without AVX-512 BF16 or AMX, saying why), or auto (bf16 where the CPU has AVX-512 BF16 or AMX, or on CUDA)',
    )
    .option('--folds <n>', 'split the training classes into n class-disjoint folds (Reality Check; default: none)')
    .option('--fold <i>', "with --folds: train without fold i's classes (0-based) and validate on them")
    .option('--split-file <file>', 'folder format: class split file')
    .option('--nproc-per-node <n>', 'data-parallel: start n training processes on this machine (torchrun-style)')
    .option('--nnodes <n>', 'with --nproc-per-node: machines in the job (default 1)')
    .option('--node-rank <r>', 'with --nnodes: this machine, 0-based (default 0)')
    .option('--master-addr <host>', 'with --nproc-per-node: the host of rank 0 (default 127.0.0.1)')
    .option('--master-port <port>', 'with --nproc-per-node: the port of the rendezvous store (default 29500)')
    .option(
      '--dist-timeout <s>',
      `data-parallel: seconds a rank waits for the others before stopping (default ${DEFAULT_DIST_TIMEOUT_SECONDS})`,
    );
  cmd.action(async (raw: Raw) => {
    const config = trainConfigFromFlags(raw);
    if (raw.nprocPerNode !== undefined) {
      // The launcher: this process only starts and supervises the ranks, which run this command.
      process.exitCode = await launch({
        nprocPerNode: flagNumber(raw, 'nprocPerNode', 1),
        nnodes: flagNumber(raw, 'nnodes', 1),
        nodeRank: flagNumber(raw, 'nodeRank', 0),
        masterAddr: typeof raw.masterAddr === 'string' ? raw.masterAddr : '127.0.0.1',
        masterPort: flagNumber(raw, 'masterPort', 29500),
        threads: config.threads,
        argv: selfCommand(),
      });
      return;
    }
    // A rank of a data-parallel job when torchrun's variables say so (torchrun or our launcher).
    const job = await joinJobFromEnv(flagNumber(raw, 'distTimeout', DEFAULT_DIST_TIMEOUT_SECONDS));
    await trainCommand(config, raw, job?.parallel).catch((e: unknown) => {
      throw job ? tagWithRank(e, job.env.rank) : e;
    });
    job?.pg.destroy();
  });
}

function flagNumber(raw: Raw, key: string, fallback: number): number {
  return raw[key] === undefined ? fallback : parseNumber(kebab(key), String(raw[key]));
}

async function trainCommand(config: TrainConfig, raw: Raw, parallel?: DataParallel): Promise<void> {
  const dataset = openDataset({
    dataset: config.dataset,
    root: config.root,
    splitFile: typeof raw.splitFile === 'string' ? raw.splitFile : undefined,
  });
  if (parallel && !parallel.isMain) {
    const result = await runSession(config, {
      dataset,
      resume: typeof raw.resume === 'string' ? raw.resume : undefined,
      allowWorldSizeChange: raw.allowWorldSizeChange === true,
      parallel,
    });
    result.model.dispose();
    return;
  }
  // One writer per OUT folder, until the report is written too.
  const lock = acquireWriterLock(config.out, 'train');
  try {
    const result = await runSession(config, {
      dataset,
      resume: typeof raw.resume === 'string' ? raw.resume : undefined,
      allowWorldSizeChange: raw.allowWorldSizeChange === true,
      parallel,
      lock,
    });
    const records = readMetrics(join(config.out, 'metrics.jsonl'));
    writeFileAtomic(
      join(config.out, 'report.html'),
      await trainingReportHtml(`normsoftmax: ${config.arch} on ${config.dataset}`, records),
    );
    if (result.lastEval) console.log(formatMetricsTable(result.lastEval));
    console.log(`checkpoint: ${join(config.out, 'last.safetensors')}  report: ${join(config.out, 'report.html')}`);
    result.model.dispose();
  } finally {
    lock.release();
  }
}
