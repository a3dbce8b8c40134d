// --precision fp32|bf16|auto for inference: the capability probe, what auto resolves to, bf16 embeddings
// (float32, unit length, agreeing with fp32), and the flag on the commands.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { embedBatch } from '../../src/embed/embed-batch.js';
import { loadNpy } from '../../src/io/npy.js';
import { createEmbedder } from '../../src/nn/embedder.js';
import { manualSeed, noGrad, randn, scope } from '../../src/tensor/index.js';
import { parsePrecision, resolvePrecision } from '../../src/tensor/precision.js';
import {
  bf16SupportFromCpuinfo,
  bf16SupportFromOverride,
  type CpuBf16Support,
  cpuBf16Support,
} from '../../src/util/cpu-bf16.js';
import { UsageError } from '../../src/util/errors.js';
import { describeRun, runCli } from '../helpers/cli.js';
import { writeImageFolder } from '../helpers/images.js';
import { writeResnetWeights } from '../helpers/weights.js';

const cpuinfo = (flags: string) =>
  `processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: ${flags}\nbugs\t\t: spectre_v1\n\nprocessor\t: 1\nflags\t\t: fpu\n`;

describe('the CPU capability probe', () => {
  test("reads the first processor's flags: AMX-BF16, AVX-512 BF16, neither", () => {
    assert.deepEqual(bf16SupportFromCpuinfo(cpuinfo('fpu avx512f avx512_bf16 amx_bf16 amx_tile')), {
      native: true,
      flags: ['avx512_bf16', 'amx_bf16'],
      description: 'CPU has AMX-BF16',
    });
    assert.deepEqual(bf16SupportFromCpuinfo(cpuinfo('fpu avx512f avx512_bf16')), {
      native: true,
      flags: ['avx512_bf16'],
      description: 'CPU has AVX-512 BF16',
    });
    const none = bf16SupportFromCpuinfo(cpuinfo('fpu avx2 avx512f avx512_bf16x'));
    assert.equal(none.native, false, 'a flag that only starts with avx512_bf16 is not it');
    assert.equal(bf16SupportFromCpuinfo('').native, false);
  });

  test('NORMSOFTMAX_CPU_BF16=native|none overrides it (tests, diagnosis); another value is a UsageError', () => {
    assert.equal(bf16SupportFromOverride(undefined), undefined);
    assert.equal(bf16SupportFromOverride(''), undefined);
    assert.deepEqual(bf16SupportFromOverride('native'), {
      native: true,
      flags: [],
      description: 'NORMSOFTMAX_CPU_BF16=native',
      overridden: true,
    });
    assert.deepEqual(bf16SupportFromOverride('none'), {
      native: false,
      flags: [],
      description: 'no native bf16 (NORMSOFTMAX_CPU_BF16=none)',
      overridden: true,
    });
    assert.throws(
      () => bf16SupportFromOverride('yes'),
      (e: unknown) => e instanceof UsageError && e.message === 'NORMSOFTMAX_CPU_BF16: expected native or none, got "yes"',
    );
    // cpuBf16Support() reads the variable at every call, after the cached probe too.
    const old = process.env.NORMSOFTMAX_CPU_BF16;
    try {
      cpuBf16Support();
      process.env.NORMSOFTMAX_CPU_BF16 = 'none';
      assert.equal(cpuBf16Support().native, false);
      process.env.NORMSOFTMAX_CPU_BF16 = 'native';
      assert.equal(cpuBf16Support().native, true);
    } finally {
      if (old === undefined) delete process.env.NORMSOFTMAX_CPU_BF16;
      else process.env.NORMSOFTMAX_CPU_BF16 = old;
    }
  });
});

describe('auto resolves as specified (probe injected)', () => {
  const probe = (native: boolean, description: string) => (): CpuBf16Support => ({
    native,
    flags: native ? ['amx_bf16'] : [],
    description,
  });
  test('a CPU with native bf16: bf16, and the line says why', () => {
    assert.deepEqual(resolvePrecision('auto', 'cpu', probe(true, 'CPU has AMX-BF16')), {
      precision: 'bf16',
      line: 'precision: bf16 (auto: CPU has AMX-BF16)',
    });
  });
  test('a CPU without: fp32', () => {
    const r = resolvePrecision('auto', 'cpu', probe(false, 'no native bf16 (neither AVX-512 BF16 nor AMX-BF16)'));
    assert.deepEqual(r, {
      precision: 'fp32',
      line: 'precision: fp32 (auto: no native bf16 (neither AVX-512 BF16 nor AMX-BF16))',
    });
  });
  test('a CUDA device: bf16 whatever the CPU', () => {
    assert.equal(resolvePrecision('auto', 'cuda:0', probe(false, 'none')).precision, 'bf16');
  });
  test('fp32 and bf16 are taken as given, without asking the probe', () => {
    const never = () => {
      throw new Error('probe called');
    };
    assert.deepEqual(resolvePrecision('fp32', 'cpu', never), { precision: 'fp32', line: 'precision: fp32' });
    assert.deepEqual(resolvePrecision('bf16', 'cpu', never), { precision: 'bf16', line: 'precision: bf16' });
  });
  test('any other value is a one-line UsageError naming the flag', () => {
    assert.throws(
      () => parsePrecision('fp16'),
      (e: unknown) => e instanceof UsageError && e.message === '--precision: expected fp32, bf16 or auto, got "fp16"',
    );
    assert.throws(() => parsePrecision('BF16', '--compute-precision'), /^UsageError: --compute-precision: /);
  });
});

test('resnet18 (random weights, 64x64): bf16 embeddings are float32, unit length and agree with fp32', () => {
  manualSeed(3);
  const model = createEmbedder({ arch: 'resnet18', dim: 128 });
  try {
    model.eval();
    scope(() => {
      const images = randn([8, 3, 64, 64]);
      const fp32 = noGrad(() => embedBatch(model, images, 'fp32'));
      const bf16 = noGrad(() => embedBatch(model, images, 'bf16'));
      assert.equal(bf16.dtype, 'float32');
      assert.deepEqual(bf16.shape, [8, 128]);
      for (const n of bf16.norm(2, 1).toArray()) assert.ok(Math.abs(n - 1) < 1e-6, `unit length in fp32 (${n})`);
      const cos = fp32.mul(bf16).sum(1).toArray();
      const mean = cos.reduce((a, b) => a + b, 0) / cos.length;
      console.log(`resnet18@64 mean cosine fp32 vs bf16: ${mean.toFixed(6)} (min ${Math.min(...cos).toFixed(6)})`);
      assert.ok(mean >= 0.999, `mean cosine ${mean}`);
      assert.ok(mean < 1 - 1e-7, 'the bf16 forward must differ from fp32 (autocast was on)');
    });
  } finally {
    model.dispose();
  }
});

describe('the flag on the commands', () => {
  const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-precision-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let images: string;
  let weights: string;
  before(async () => {
    images = (await writeImageFolder(join(dir, 'images'), 2, 3)).root;
    weights = writeResnetWeights(join(dir, 'resnet18.safetensors'));
  });

  test('embed --precision bf16 prints the choice and writes float32 vectors close to fp32', () => {
    const run = (precision: string) => {
      const out = join(dir, `${precision}.npy`);
      const args = ['embed', '--checkpoint', weights, '--arch', 'resnet18', '--images', images, '--out', out];
      const r = runCli([...args, '--precision', precision]);
      assert.equal(r.code, 0, describeRun(args, r));
      return { r, x: loadNpy(out) };
    };
    const a = run('fp32');
    const b = run('bf16');
    assert.match(b.r.stderr, /^precision: bf16$/m);
    assert.match(a.r.stderr, /^precision: fp32$/m);
    scope(() => {
      assert.equal(b.x.dtype, 'float32');
      const cos = a.x.mul(b.x).sum(1).toArray();
      assert.ok(Math.min(...cos) > 0.995 && Math.min(...cos) < 1, `cosines ${cos}`);
    });
    a.x.dispose();
    b.x.dispose();
  });

  for (const [command, flag] of [
    [['embed', '--checkpoint', 'x.pth', '--images', '.', '--out', 'x.npy'], '--precision'],
    [['index', 'build', '--out', 'idx', '--images', '.', '--checkpoint', 'x.pth'], '--compute-precision'],
    [['serve', '--index', 'no-such-index'], '--precision'],
    [['train', '--dataset', 'mnist', '--root', '.'], '--precision'],
  ] as const) {
    test(`${command[0] === 'index' ? 'index build' : command[0]} ${flag} fp16: exit 2, one line naming the flag`, () => {
      const args = [...command, flag, 'fp16'];
      const r = runCli(args);
      assert.equal(r.code, 2, describeRun(args, r));
      assert.equal(r.stderr.trim(), `normsoftmax: ${flag}: expected fp32, bf16 or auto, got "fp16"`);
    });
  }
});
