// --engine libtorch|onnxruntime and --threads N for embed, index build and serve, and how they combine
// with --precision: the flag is resolved for the CPU and printed (precision-flag.ts), then chooseEngine
// (src/embed/choose-engine.ts) decides, as for the library: without --engine, bf16 runs on libtorch, an
// .onnx --checkpoint on onnxruntime, anything else on the default engine (onnxruntime, measured faster);
// with --engine onnxruntime an explicit bf16 is a UsageError and auto means fp32, said in one printed line.
import type { Command } from 'commander';
import { chooseEngine, DEFAULT_ENGINE, type EngineChoice } from '../embed/choose-engine.js';
import { ENGINES, parseEngine } from '../embed/engine.js';
import { getNumThreads, setNumThreads } from '../tensor/index.js';
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

export interface EngineFlagChoice extends EngineChoice {
  /** Intra-op threads for onnxruntime (libtorch's are set here when --threads is given). */
  threads: number;
}

export function engineFromFlags(
  f: { engine?: string; threads?: string; checkpoint?: string },
  precisionFlag: { value: string | undefined; flag?: string },
  log: (line: string) => void = (line) => console.error(line),
): EngineFlagChoice {
  const engine = f.engine === undefined ? undefined : parseEngine(f.engine);
  const threadsFlag = optionalInteger('--threads', f.threads, undefined);
  const flag = precisionFlag.flag ?? '--precision';
  const value = precisionFlag.value;
  // onnxruntime's bf16 (refused) and auto (fp32, said) are chooseEngine's to answer, unresolved: this CPU's
  // bf16 support does not matter to a float32 model. Everything else is resolved (and printed) first.
  const asked = engine === 'onnxruntime' && (value === 'bf16' || value === 'auto') ? value : undefined;
  const precision = asked ?? precisionFromFlag(value, { flag, log });
  const choice = chooseEngine({ checkpoint: f.checkpoint, engine, precision }, { flag, log });
  if (threadsFlag !== undefined) setNumThreads(threadsFlag);
  return { ...choice, threads: threadsFlag ?? getNumThreads() };
}
