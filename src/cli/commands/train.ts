// `normsoftmax train`: the paper's recipe on any supported data set (a contract: scripts call these flags).
import { join } from 'node:path';
import type { Command } from 'commander';
import { writeFileAtomic } from '../../io/atomic.js';
import { trainingReportHtml } from '../../report/training-report.js';
import { readConfigFile, resolveConfig, type TrainConfig } from '../../train/config.js';
import { readMetrics } from '../../train/metrics.js';
import { runSession } from '../../train/session.js';
import { UsageError } from '../../util/errors.js';
import { openDataset } from '../dataset-options.js';
import { formatResultTable } from './demo.js';

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
  ['threads', 'threads'],
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
];

const kebab = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** The flags given on the command line, as config keys (numbers parsed, errors naming the flag). */
export function flagsToConfig(raw: Raw): Partial<TrainConfig> {
  const out: Partial<Record<keyof TrainConfig, unknown>> = {};
  for (const [flag, key] of NUMERIC) {
    const v = raw[flag];
    if (v === undefined) continue;
    const n = Number(v);
    if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n)) {
      throw new UsageError(`${kebab(flag)}: expected a number, got "${String(v)}"`);
    }
    out[key] = n;
  }
  for (const key of STRINGS) if (typeof raw[key] === 'string') out[key] = raw[key];
  if (typeof raw.k === 'string') {
    out.k = raw.k.split(',').map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`--k: expected a list like 1,2,4,8, got "${raw.k}"`);
      return n;
    });
  }
  if (raw.skipBadImages === true) out.skipBadImages = true;
  if (raw.nmi === true) out.nmi = true;
  return out as Partial<TrainConfig>;
}

export function register(program: Command): void {
  const cmd = program
    .command('train')
    .description('train an embedder with NormSoftmax (or a baseline loss) and evaluate it zero-shot')
    .option('--preset <name>', 'official hyper-parameters: cub, cars196, sop, inshop')
    .option('--config <file.json>', 'options as JSON (same keys as the flags, camelCase); flags override it')
    .option('--dataset <name>', 'cub, cars196, sop, inshop, folder, csv, fashion-mnist, mnist')
    .option('--root <dir>', 'data set directory')
    .option('--arch <name>', 'resnet18|34|50|101, bninception, smallcnn (default resnet50)')
    .option('--dim <n>', 'embedding size (default 2048)')
    .option('--pretrained <file>', 'backbone weights (.pth or .safetensors); fc.* is ignored')
    .option('--batch-size <n>', 'images per batch (default 75)')
    .option('--images-per-class <n>', 'images per class in a batch (default 25)')
    .option('--sampler <kind>', 'balanced (default) or shuffle')
    .option('--lr <x>', 'learning rate (default 0.01)')
    .option('--lr-mult <x>', 'lr multiplier of the new parameters (default 1)')
    .option('--gamma <x>', 'lr decay per step (default 0.1)')
    .option('--epochs-per-step <n>', 'epochs between lr decays (default 15)')
    .option('--num-steps <n>', 'lr steps; epochs = epochs-per-step * num-steps (default 2)')
    .option('--warmup-epochs <n>', 'epochs training only the new parameters first (default 1)')
    .option('--temperature <x>', 'NormSoftmax temperature (default 0.05)')
    .option('--class-fraction <f>', 'fraction of classes in each softmax, (0, 1] (default 1)')
    .option('--loss <name>', 'normsoftmax (default), triplet, proxynca')
    .option('--margin <x>', 'triplet margin (default 0.2)')
    .option('--optimizer <name>', 'sgd (default) or adamw')
    .option('--momentum <x>', 'SGD momentum (default 0.9)')
    .option('--weight-decay <x>', 'weight decay (default 1e-4)')
    .option('--seed <n>', 'random seed (default 0)')
    .option('--device <d>', 'cpu (default), cuda or cuda:N')
    .option('--out <dir>', 'output directory (default runs/train)')
    .option('--resume <ckpt>', 'continue from a checkpoint (OUT/last.safetensors)')
    .option('--eval-every <n>', 'evaluate every n epochs (default 5)')
    .option('--k <list>', "Recall@K list (default: the data set's)")
    .option('--nmi', 'also compute NMI (k-means) at each evaluation')
    .option('--resize <n>', 'resize images to n x n before cropping (default 256)')
    .option('--crop <n>', 'crop size (default 224)')
    .option('--workers <n>', 'images decoded in parallel (default 4)')
    .option('--skip-bad-images', 'warn about and skip unreadable images instead of stopping')
    .option('--max-batches-per-epoch <n>', 'cap batches per epoch (smoke runs)')
    .option('--threads <n>', 'CPU threads (default: all cores)')
    .option('--split-file <file>', 'folder format: class split file');
  cmd.action(async (raw: Raw) => {
    const file = typeof raw.config === 'string' ? readConfigFile(raw.config) : undefined;
    const config = resolveConfig({
      preset: typeof raw.preset === 'string' ? raw.preset : undefined,
      file,
      flags: flagsToConfig(raw),
    });
    const dataset = openDataset({
      dataset: config.dataset,
      root: config.root,
      splitFile: typeof raw.splitFile === 'string' ? raw.splitFile : undefined,
    });
    const result = await runSession(config, {
      dataset,
      resume: typeof raw.resume === 'string' ? raw.resume : undefined,
    });
    const records = readMetrics(join(config.out, 'metrics.jsonl'));
    writeFileAtomic(
      join(config.out, 'report.html'),
      await trainingReportHtml(`normsoftmax: ${config.arch} on ${config.dataset}`, records),
    );
    if (result.lastEval) console.log(formatResultTable(result.lastEval));
    console.log(`checkpoint: ${join(config.out, 'last.safetensors')}  report: ${join(config.out, 'report.html')}`);
    result.model.dispose();
  });
}
