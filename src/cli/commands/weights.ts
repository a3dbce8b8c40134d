// `normsoftmax weights list|download NAME`: pretrained ImageNet weights by name (src/data/weights/table.ts).
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import {
  cachedWeightsPath,
  fetchWeights,
  isPrefixOnly,
  isUnpublished,
  readPin,
  WEIGHTS_TABLE_ENV,
  type WeightsEntry,
  weightsCacheDir,
  weightsEntry,
  weightsTable,
} from '../../data/weights/index.js';
import { UsageError } from '../../util/errors.js';

const megabytes = (bytes: number | undefined) => (bytes === undefined ? '?' : `${(bytes / 1e6).toFixed(1)} MB`);

/** What the download is checked against, when it is less than a published SHA-256. */
function verification(e: WeightsEntry): string {
  if (isPrefixOnly(e)) return '  (sha256 prefix only)';
  if (!isUnpublished(e)) return '';
  const pinned = readPin(cachedWeightsPath(e));
  return pinned
    ? `  (no published sha256: not verified; pinned ${pinned.slice(0, 12)}... at first download)`
    : '  (no published sha256: not verified; the first download is pinned)';
}

export function register(program: Command): void {
  const weights = program
    .command('weights')
    .description('pretrained ImageNet weights by name, cached in $NORMSOFTMAX_HOME/weights');
  weights
    .command('list')
    .description(`names, architectures, sizes, cache state and URLs (table: built in, or $${WEIGHTS_TABLE_ENV})`)
    .action(() => {
      const rows = Object.entries(weightsTable()).map(([name, e]) => [
        name,
        e.arch,
        megabytes(e.size),
        existsSync(cachedWeightsPath(e)) ? 'cached' : '-',
        `${e.url}${verification(e)}`,
      ]);
      const header = ['name', 'arch', 'size', 'cache', 'url'];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      for (const r of [header, ...rows])
        console.log(
          r
            .map((c, i) => c.padEnd(widths[i]!))
            .join('  ')
            .trimEnd(),
        );
      console.log(`cache: ${weightsCacheDir()}`);
    });
  weights
    .command('download')
    .description('download NAME into the cache (resuming a partial download) and check its SHA-256')
    .argument('<name>', 'a name from `normsoftmax weights list`')
    .option('--quiet', 'no progress bar')
    .action(async (name: string, o: { quiet?: boolean }) => {
      const entry = weightsEntry(name);
      if (!entry) {
        throw new UsageError(
          `weights download ${name}: unknown name; known: ${Object.keys(weightsTable()).join(', ')}`,
        );
      }
      const path = await fetchWeights(name, entry, { quiet: o.quiet });
      console.log(path);
    });
}
