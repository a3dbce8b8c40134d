// `normsoftmax export --checkpoint FILE|NAME --format onnx --out model.onnx`: the whole embedder as an
// ONNX model that onnxruntime runs without libtorch (docs/onnx.md). A contract: scripts call these flags.
import type { Command } from 'commander';
import { resolveWeights } from '../../data/weights/index.js';
import { exportCheckpoint, MAX_OPSET, MIN_OPSET, parseOpset, writeOnnx } from '../../embed/onnx/index.js';
import { ARCHS } from '../../nn/embedder.js';
import { UsageError } from '../../util/errors.js';
import { optionalInteger } from '../parse-flags.js';

interface ExportFlags {
  checkpoint: string;
  arch?: string;
  dim?: string;
  format: string;
  out: string;
  opset?: string;
  foldBn: boolean;
  dynamicBatch: boolean;
}

export function register(program: Command): void {
  program
    .command('export')
    .description('export a trained embedder (or bare backbone weights) as an ONNX model for onnxruntime')
    .requiredOption(
      '--checkpoint <file|name>',
      'a normsoftmax checkpoint, .pth / .safetensors weights, or a weights name',
    )
    .option('--arch <name>', `architecture of bare weights: ${ARCHS.join(', ')}`)
    .option('--dim <n>', 'embedding size for bare weights (default: the backbone width)')
    .option('--format <format>', 'output format (only onnx)', 'onnx')
    .requiredOption('--out <model.onnx>', 'output file (written atomically)')
    .option('--opset <n>', `ONNX opset, ${MIN_OPSET} to ${MAX_OPSET} (default 17)`)
    .option('--fold-bn', 'fold every BatchNorm into the convolution before it (default)')
    .option('--no-fold-bn', 'keep BatchNormalization nodes')
    .option('--dynamic-batch', 'symbolic batch dimension N (default)')
    .option('--no-dynamic-batch', 'fix the batch dimension to 1')
    .action(async (flags: ExportFlags) => {
      if (flags.format !== 'onnx') throw new UsageError(`--format: expected onnx, got "${flags.format}"`);
      if (!/\.onnx$/i.test(flags.out)) throw new UsageError(`--out ${flags.out}: expected a .onnx file name`);
      const opset = parseOpset(flags.opset);
      const dim = optionalInteger('--dim', flags.dim, undefined);
      await resolveWeights(flags.checkpoint); // downloads a weights name that is not cached yet
      const { bytes, description } = exportCheckpoint({
        checkpoint: flags.checkpoint,
        arch: flags.arch,
        dim,
        opset,
        foldBn: flags.foldBn,
        dynamicBatch: flags.dynamicBatch,
      });
      console.error(`model: ${description}`);
      writeOnnx(flags.out, bytes); // errors name the path, as --out gave it
      const mb = (bytes.length / 1e6).toFixed(1);
      const bn = flags.foldBn ? 'BatchNorm folded' : 'BatchNorm kept';
      const batch = flags.dynamicBatch ? 'N' : '1';
      console.log(`${flags.out}: ONNX opset ${opset}, ${mb} MB, ${bn}, batch ${batch}`);
    });
}
