// `normsoftmax data check` and `normsoftmax data download`.
import type { Command } from 'commander';
import { checkDataset, formatReport } from '../../data/check.js';
import { DOWNLOADS, downloadDataset, INSHOP_MANUAL_STEPS, isDownloadable } from '../../data/download/index.js';
import { InputError, UsageError } from '../../util/errors.js';
import { createProgress, type Progress } from '../../util/progress.js';
import { addDatasetOptions, type DatasetFlags, openDataset, parseSplit } from '../dataset-options.js';

// Small datasets are checked too quickly for a progress display to help.
const PROGRESS_FROM = 2000;

export function register(program: Command): void {
  const data = program.command('data').description('check and download datasets');

  addDatasetOptions(
    data
      .command('check')
      .description('count images and classes per split and list every problem (exits non-zero if any)')
      .option('--decode', 'decode every image fully (slower; also finds truncated files)'),
    { splitHelp: 'check only this split' },
  ).action(async (flags: DatasetFlags & { decode?: boolean }) => {
    const dataset = openDataset(flags);
    const splits = flags.split === undefined ? undefined : [parseSplit(dataset, flags.split)];
    let bar: Progress | undefined;
    const report = await checkDataset(dataset, {
      splits,
      decode: flags.decode ?? false,
      onProgress: (done, total) => {
        if (total < PROGRESS_FROM) return;
        bar ??= createProgress({ label: 'checking images', total });
        bar.update(done);
      },
    });
    bar?.stop();
    for (const line of formatReport(report)) console.log(line);
    const n = report.problems.length;
    if (n > 0) throw new InputError(`data check found ${n} ${n === 1 ? 'problem' : 'problems'} in ${report.root}`);
  });

  data
    .command('download')
    .description('download and unpack a benchmark into --root (resumes, verifies checksums)')
    .argument('<name>', `${Object.keys(DOWNLOADS).join(', ')} or inshop (prints the manual steps)`)
    .requiredOption('--root <dir>', 'folder to put the dataset in')
    .option('--keep-archive', 'keep the downloaded archives after unpacking')
    .action(async (name: string, flags: { root: string; keepArchive?: boolean }) => {
      if (name === 'inshop') {
        for (const line of INSHOP_MANUAL_STEPS) console.log(line.replaceAll('ROOT', flags.root));
        return;
      }
      if (!isDownloadable(name)) {
        throw new UsageError(`cannot download "${name}"; choose one of ${Object.keys(DOWNLOADS).join(', ')}, inshop`);
      }
      await downloadDataset(name, flags.root, { keepArchive: flags.keepArchive ?? false });
      console.log(
        `${name} is in ${flags.root}; check it with: normsoftmax data check --dataset ${name} --root ${flags.root}`,
      );
    });
}
