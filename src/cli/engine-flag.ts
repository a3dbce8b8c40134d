// --engine libtorch|onnxruntime and --threads N for embed, index build and serve, and how they combine
// with --precision: bf16 is libtorch's (autocast); with onnxruntime an explicit bf16 is a UsageError and
// auto means fp32 (onnxruntime runs the exported float32 model), said in one printed line. Without
// --engine: the default engine (onnxruntime, measured faster) for fp32 forwards, libtorch for bf16 ones
// (--precision bf16 or auto, on a CPU with native bf16); an .onnx --checkpoint implies onnxruntime.
import type { Command } from 'commander';
import { DEFAULT_ENGINE, ENGINES, type EngineName, parseEngine } from '../embed/engine.js';
import { isOnnxFile } from '../embed/open-engine.js';
import { getNumThreads, setNumThreads } from '../tensor/index.js';
import type { Precision } from '../tensor/precision.js';
import { UsageError } from '../util/errors.js';
import { optionalInteger } from './parse-flags.js';
import { precisionFromFlag } from './precision-flag.js';

export function addEngineOptions(cmd: Command): Command {
  return cmd
    .option(
      '--engine <e>',
      `forward engine: ${ENGINES.join(' or ')} (the exported ONNX model, cached next to the checkpoint); default ${DEFAULT_ENGINE}`,
    )
    .option('--threads <n>', 'CPU threads of the forward (default: all cores, or NORMSOFTMAX_THREADS)');
}

export interface EngineChoice {
  engine: EngineName;
  precision: Precision;
  /** Intra-op threads for onnxruntime (libtorch's are set here when --threads is given). */
  threads: number;
}

export function engineFromFlags(
  f: { engine?: string; threads?: string; checkpoint?: string },
  precisionFlag: { value: string | undefined; flag?: string },
  log: (line: string) => void = (line) => console.error(line),
): EngineChoice {
  let engine = parseEngine(f.engine);
  const threadsFlag = optionalInteger('--threads', f.threads, undefined);
  const flag = precisionFlag.flag ?? '--precision';
  let precision: Precision = 'fp32';
  if (f.engine === undefined) {
    // No --engine: bf16 (asked for, or auto on a CPU with native bf16) runs on libtorch, which has it;
    // an .onnx model can only run on onnxruntime; else the default engine.
    precision = precisionFromFlag(precisionFlag.value, { flag, log });
    if (f.checkpoint !== undefined && isOnnxFile(f.checkpoint)) engine = 'onnxruntime';
    else if (precision === 'bf16') engine = 'libtorch';
    if (engine === 'onnxruntime') precision = 'fp32';
  } else if (engine === 'onnxruntime') {
    const v = precisionFlag.value;
    if (v === 'bf16') throw new UsageError(`${flag} bf16: applies to --engine libtorch only (onnxruntime runs fp32)`);
    if (v === 'auto') log('precision: fp32 (auto: --engine onnxruntime runs the float32 ONNX model)');
    else if (v !== undefined) precisionFromFlag(v, { flag, log });
  } else {
    precision = precisionFromFlag(precisionFlag.value, { flag, log });
  }
  if (threadsFlag !== undefined) setNumThreads(threadsFlag);
  return { engine, precision, threads: threadsFlag ?? getNumThreads() };
}
