// One engine decision (src/embed/choose-engine.ts) with one default: its rules case by case, and the CLI's
// flags (engineFromFlags) and the library (openEngine, modelEmbedder, createQueryEmbedder) deciding the same
// for the same request, so that `embed` and a library call without an engine run the same engine.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { engineFromFlags } from '../../src/cli/engine-flag.js';
import { chooseEngine, DEFAULT_ENGINE, type EngineRequest } from '../../src/embed/choose-engine.js';
import type { EngineName } from '../../src/embed/engine.js';
import { cachedOnnx } from '../../src/embed/onnx-cache.js';
import { openEngine } from '../../src/embed/open-engine.js';
import { saveSafetensors } from '../../src/io/safetensors.js';
import { createEmbedder } from '../../src/nn/embedder.js';
import { modelEmbedder } from '../../src/search/build/item-embedder.js';
import { createQueryEmbedder } from '../../src/search/query-embedder.js';
import { sha256File } from '../../src/search/sha256.js';
import { Generator } from '../../src/tensor/index.js';
import type { Precision } from '../../src/tensor/precision.js';
import { UsageError } from '../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-choose-engine-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs fn with NORMSOFTMAX_CPU_BF16 set, so that a bf16 flag resolves the same on every CPU. */
function withCpuBf16<R>(value: 'native' | 'none', fn: () => R): R {
  const old = process.env.NORMSOFTMAX_CPU_BF16;
  process.env.NORMSOFTMAX_CPU_BF16 = value;
  try {
    return fn();
  } finally {
    if (old === undefined) delete process.env.NORMSOFTMAX_CPU_BF16;
    else process.env.NORMSOFTMAX_CPU_BF16 = old;
  }
}

test('the default engine is onnxruntime (README "Default: onnxruntime", measured faster for fp32 forwards)', () => {
  assert.equal(DEFAULT_ENGINE, 'onnxruntime');
});

test('the rules: bf16 on libtorch, an .onnx model on onnxruntime, else the default; contradictions are UsageErrors', () => {
  const cases: [EngineRequest, EngineName, Precision][] = [
    [{}, 'onnxruntime', 'fp32'],
    [{ checkpoint: 'w.safetensors', precision: 'fp32' }, 'onnxruntime', 'fp32'],
    [{ checkpoint: 'w.safetensors', precision: 'bf16' }, 'libtorch', 'bf16'],
    [{ checkpoint: null, precision: 'bf16' }, 'libtorch', 'bf16'],
    [{ checkpoint: 'm.onnx' }, 'onnxruntime', 'fp32'],
    [{ checkpoint: 'M.ONNX', precision: 'bf16' }, 'onnxruntime', 'fp32'],
    [{ checkpoint: 'w.pth', engine: 'libtorch' }, 'libtorch', 'fp32'],
    [{ checkpoint: 'w.pth', engine: 'libtorch', precision: 'bf16' }, 'libtorch', 'bf16'],
    [{ checkpoint: 'w.pth', engine: 'onnxruntime', precision: 'fp32' }, 'onnxruntime', 'fp32'],
    [{ checkpoint: 'm.onnx', engine: 'onnxruntime' }, 'onnxruntime', 'fp32'],
  ];
  for (const [request, engine, precision] of cases) {
    const choice = chooseEngine(request);
    assert.deepEqual(choice, { engine, precision }, JSON.stringify(request));
    // The library chooses again with what a command chose (openEngine after engineFromFlags): the same.
    assert.deepEqual(chooseEngine({ ...request, ...choice }), choice, `again: ${JSON.stringify(request)}`);
  }
  assert.throws(
    () => chooseEngine({ checkpoint: 'w.pth', engine: 'onnxruntime', precision: 'bf16' }),
    (e: unknown) =>
      e instanceof UsageError &&
      e.message === '--precision bf16: applies to --engine libtorch only (onnxruntime runs fp32)',
  );
  assert.throws(
    () => chooseEngine({ engine: 'onnxruntime', precision: 'bf16' }, { flag: '--compute-precision' }),
    /^UsageError: --compute-precision bf16: applies to --engine libtorch only/,
  );
  assert.throws(
    () => chooseEngine({ checkpoint: 'x/m.onnx', engine: 'libtorch' }),
    (e: unknown) =>
      e instanceof UsageError &&
      e.message === '--checkpoint x/m.onnx: an ONNX model runs with --engine onnxruntime only',
  );
});

test('auto: fp32 on onnxruntime (said), else resolved for the CPU (bf16 runs on libtorch)', () => {
  const lines: string[] = [];
  const log = (l: string) => lines.push(l);
  assert.deepEqual(chooseEngine({ engine: 'onnxruntime', precision: 'auto' }, { log }), {
    engine: 'onnxruntime',
    precision: 'fp32',
  });
  assert.deepEqual(lines, ['precision: fp32 (auto: --engine onnxruntime runs the float32 ONNX model)']);
  lines.length = 0;
  withCpuBf16('native', () => {
    assert.deepEqual(chooseEngine({ precision: 'auto' }, { log }), { engine: 'libtorch', precision: 'bf16' });
  });
  withCpuBf16('none', () => {
    assert.deepEqual(chooseEngine({ precision: 'auto' }, { log }), { engine: DEFAULT_ENGINE, precision: 'fp32' });
  });
  assert.equal(lines.length, 2);
  assert.equal(lines[0], 'precision: bf16 (auto: NORMSOFTMAX_CPU_BF16=native)');
  assert.match(lines[1] as string, /^precision: fp32 \(auto: no native bf16/);
});

test('the CLI flags decide what the library decides for the same request', () => {
  const quiet = () => {};
  for (const cpu of ['native', 'none'] as const) {
    for (const checkpoint of ['w.safetensors', 'm.onnx', undefined]) {
      for (const engine of [undefined, 'libtorch', 'onnxruntime'] as const) {
        for (const precision of [undefined, 'fp32', 'bf16'] as const) {
          const what = `${cpu} ${checkpoint} --engine ${engine} --precision ${precision}`;
          withCpuBf16(cpu, () => {
            let cli: { engine: EngineName; precision: Precision } | Error;
            try {
              const c = engineFromFlags({ checkpoint, engine }, { value: precision }, quiet);
              cli = { engine: c.engine, precision: c.precision };
            } catch (e) {
              cli = e as Error;
            }
            // The library gets the flag's precision as the command resolved it for this CPU.
            const resolved = precision === 'bf16' && cpu === 'none' && engine !== 'onnxruntime' ? 'fp32' : precision;
            let lib: { engine: EngineName; precision: Precision } | Error;
            try {
              lib = chooseEngine({ checkpoint, engine, precision: resolved });
            } catch (e) {
              lib = e as Error;
            }
            if (lib instanceof Error) {
              assert.ok(cli instanceof UsageError, `${what}: the CLI accepted what the library refuses`);
              assert.equal(cli.message, lib.message, what);
            } else {
              assert.deepEqual(cli, lib, what);
            }
          });
        }
      }
    }
  }
});

test('openEngine, modelEmbedder and createQueryEmbedder without an engine run the default one; bf16 runs on libtorch', async () => {
  const model = createEmbedder({ arch: 'smallcnn', dim: 8, generator: new Generator(3) });
  const weights = join(dir, 'cnn.safetensors');
  saveSafetensors(weights, model.stateDict());
  model.dispose();
  const opened = async (path: string, precision?: Precision) => {
    const o = await openEngine(path, { arch: 'smallcnn', dim: 8, precision, threads: 1 });
    o.engine.dispose();
    return o.engine.name;
  };
  const cli = (checkpoint: string, precision?: string) =>
    withCpuBf16('native', () => engineFromFlags({ checkpoint }, { value: precision }, () => {}).engine);
  assert.equal(await opened(weights), DEFAULT_ENGINE);
  assert.equal(await opened(weights), cli(weights));
  assert.equal(await opened(weights, 'bf16'), 'libtorch');
  assert.equal(await opened(weights, 'bf16'), cli(weights, 'bf16'));
  const onnx = join(dir, 'cnn.onnx');
  copyFileSync(cachedOnnx(weights, { arch: 'smallcnn', dim: 8 }).path, onnx);
  assert.equal(await opened(onnx, 'bf16'), 'onnxruntime');
  assert.equal(cli(onnx, 'bf16'), 'onnxruntime');

  const items = await modelEmbedder(weights, { arch: 'smallcnn', dim: 8, threads: 1 });
  items.close();
  assert.match(items.description, / on onnxruntime$/, 'index build without an engine: the default engine');
  const bf16Items = await modelEmbedder(weights, { arch: 'smallcnn', dim: 8, precision: 'bf16' });
  bf16Items.close();
  assert.doesNotMatch(bf16Items.description, /onnxruntime/, 'bf16: libtorch');

  // The query embedder: without an engine it exports the model and runs onnxruntime (the ONNX cache
  // appears next to its checkpoint); a contradiction is the same UsageError.
  const queryWeights = join(dir, 'query.safetensors');
  copyFileSync(weights, queryWeights);
  const identity = {
    checkpointSha256: sha256File(queryWeights),
    checkpointPath: queryWeights,
    arch: 'smallcnn',
    dim: 8,
    input: null,
    resize: 0,
    crop: 0,
  };
  const queries = await createQueryEmbedder(identity, { threads: 1 });
  await queries.close();
  assert.ok(existsSync(`${queryWeights}.onnx`), 'the query embedder ran the exported model');
  await assert.rejects(
    createQueryEmbedder(identity, { engine: 'onnxruntime', precision: 'bf16' }),
    (e: unknown) => e instanceof UsageError && /^--precision bf16: applies to --engine libtorch only/.test(e.message),
  );
});
