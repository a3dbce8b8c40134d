// `normsoftmax train`: the paper's recipe on any supported data set (a contract: scripts call these flags).
import { join } from 'node:path';
import type { Command } from 'commander';
import { formatMetricsTable } from '../../eval/format-metrics.js';
import { DEFAULT_DIST_TIMEOUT_SECONDS, joinJobFromEnv, tagWithRank } from '../../parallel/job.js';
import { launch, selfCommand } from '../../parallel/launcher.js';
import { REPORT_NAME, trainAndReport } from '../../report/train-and-report.js';
import { PRESETS, readConfigFile, resolveConfig, type TrainConfig } from '../../train/config.js';
import { flagOf } from '../../train/config-schema.js';
import type { DataParallel } from '../../train/parallel.js';
import { runSession } from '../../train/session.js';
import { openDataset } from '../dataset-options.js';
import { parseNumber } from '../parse-flags.js';
import { flagsToConfig, trainOptions } from '../train-options.js';

type Raw = Record<string, string | boolean | undefined>;

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
    .option('--config <file.json>', 'options as JSON (same keys as the flags, camelCase); flags override it');
  // Every training key's flag, from the schema (src/train/config-schema.ts).
  for (const option of trainOptions()) cmd.addOption(option);
  cmd
    .option('--resume <ckpt>', 'continue from a checkpoint (OUT/last.safetensors)')
    .option('--allow-world-size-change', 'with --resume: accept a checkpoint of another data-parallel world size')
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
  return raw[key] === undefined ? fallback : parseNumber(flagOf(key), String(raw[key]));
}

async function trainCommand(config: TrainConfig, raw: Raw, parallel?: DataParallel): Promise<void> {
  const dataset = openDataset({
    dataset: config.dataset,
    root: config.root,
    splitFile: typeof raw.splitFile === 'string' ? raw.splitFile : undefined,
  });
  const session = {
    dataset,
    resume: typeof raw.resume === 'string' ? raw.resume : undefined,
    allowWorldSizeChange: raw.allowWorldSizeChange === true,
    parallel,
  };
  if (parallel && !parallel.isMain) {
    // A rank that only trains: rank 0 writes the checkpoints, metrics and report.
    (await runSession(config, session)).model.dispose();
    return;
  }
  const result = await trainAndReport(config, session);
  if (result.lastEval) console.log(formatMetricsTable(result.lastEval));
  console.log(`checkpoint: ${join(config.out, 'last.safetensors')}  report: ${join(config.out, REPORT_NAME)}`);
  result.model.dispose();
}
