// `normsoftmax info`: which libtorch, threads and devices this installation uses.
import type { Command } from 'commander';
import { cuda, getNumThreads, libtorchVersion } from '../../tensor/index.js';

export function register(program: Command): void {
  program
    .command('info')
    .description('show the libtorch build, thread count and CUDA devices')
    .option('--json', 'print one JSON object')
    .action((opts: { json?: boolean }) => {
      const v = libtorchVersion();
      const info = {
        libtorch: v.torch,
        threads: getNumThreads(),
        cuda: cuda.isAvailable(),
        cudaDevices: cuda.deviceCount(),
        node: process.version,
      };
      if (opts.json) console.log(JSON.stringify(info));
      else for (const [k, val] of Object.entries(info)) console.log(`${k.padEnd(12)} ${val}`);
    });
}
