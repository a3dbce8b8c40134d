// --engine onnxruntime: the exported model run by onnxruntime-node gives what our libtorch forward gives
// (CLI `embed` end to end, and the EmbeddingEngine interface directly), an .onnx file works as the
// checkpoint, the ONNX cache next to the checkpoint is reused when nothing changed and re-exported when the
// checkpoint, the asked-for dim or the cached file changed, and wrong flags are one-line UsageErrors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cachedOnnx } from '../../src/embed/onnx-cache.js';
import { openEngine } from '../../src/embed/open-engine.js';
import { saveSafetensors } from '../../src/io/safetensors.js';
import { createEmbedder } from '../../src/nn/embedder.js';
import { Generator } from '../../src/tensor/index.js';
import { UsageError } from '../../src/util/errors.js';
import { describeRun, REPO_ROOT, runCli } from '../helpers/cli.js';
import { writeImageFolder } from '../helpers/images.js';
import { cannotApplyHere } from '../helpers/skip.js';
import { writeResnetWeights } from '../helpers/weights.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-onnx-engine-'));
const images = join(dir, 'images');
const r18 = join(dir, 'r18.safetensors');
after(() => rmSync(dir, { recursive: true, force: true }));
before(async () => {
  await writeImageFolder(images, 3, 2, { size: 32, noise: 160 });
  writeResnetWeights(r18);
});

function npy(path: string): Float32Array {
  const b = readFileSync(path);
  const data = b.subarray(10 + b.readUInt16LE(8));
  return new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

function rowCosines(a: Float32Array, b: Float32Array, dim: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < a.length / dim; r++) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let i = r * dim; i < (r + 1) * dim; i++) {
      ab += (a[i] as number) * (b[i] as number);
      aa += (a[i] as number) ** 2;
      bb += (b[i] as number) ** 2;
    }
    out.push(ab / Math.sqrt(aa * bb));
  }
  return out;
}

function smallcnnWeights(path: string, seed: number): string {
  const model = createEmbedder({ arch: 'smallcnn', dim: 8, generator: new Generator(seed) });
  saveSafetensors(path, model.stateDict());
  model.dispose();
  return path;
}

const embedArgs = (out: string, ...more: string[]) => [
  'embed',
  '--checkpoint',
  r18,
  '--arch',
  'resnet18',
  '--dim',
  '16',
  '--images',
  images,
  '--out',
  out,
  ...more,
];

test('embed --engine onnxruntime equals --engine libtorch (cosine >= 0.9999, 1e-5 per value); the cache is reused', () => {
  const a = join(dir, 'torch.npy');
  const b = join(dir, 'ort.npy');
  const c = join(dir, 'ort2.npy');
  let r = runCli(embedArgs(a, '--engine', 'libtorch'));
  assert.equal(r.code, 0, describeRun(embedArgs(a), r));
  // no --engine: the default, onnxruntime (fp32)
  r = runCli(embedArgs(b));
  assert.equal(r.code, 0, describeRun(embedArgs(b), r));
  assert.match(r.stderr, new RegExp(`onnx: exported to ${r18.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.onnx`));
  assert.match(r.stderr, /model: .*r18\.safetensors \(bare resnet18 weights, dim 16\) on onnxruntime\n/);
  const mtime = statSync(`${r18}.onnx`).mtimeMs;
  const torch = npy(a);
  const ort = npy(b);
  assert.equal(torch.length, 6 * 16);
  const cos = rowCosines(torch, ort, 16);
  assert.ok(Math.min(...cos) >= 0.9999, `cosines ${cos}`);
  for (let i = 0; i < torch.length; i++) assert.ok(Math.abs((torch[i] as number) - (ort[i] as number)) < 1e-5);
  // the images do differ (so equal rows mean the same image went through both engines)
  assert.ok(Math.min(...rowCosines(torch.subarray(0, 16), torch.subarray(80, 96), 16)) < 0.999);

  // a second run finds the cached model: no export, the file untouched
  r = runCli(embedArgs(c, '--engine', 'onnxruntime'));
  assert.equal(r.code, 0, describeRun(embedArgs(c), r));
  assert.match(r.stderr, /onnx: .*r18\.safetensors\.onnx \(cached\)/);
  assert.match(r.stderr, /model: .*r18\.safetensors \(bare resnet18 weights, dim 16\) on onnxruntime\n/);
  assert.doesNotMatch(r.stderr, /exported/);
  assert.equal(statSync(`${r18}.onnx`).mtimeMs, mtime);
  assert.deepEqual(npy(c), ort);

  // the .onnx file itself as --checkpoint (onnxruntime implied)
  const d = join(dir, 'direct.npy');
  const args = ['embed', '--checkpoint', `${r18}.onnx`, '--images', images, '--out', d];
  r = runCli(args);
  assert.equal(r.code, 0, describeRun(args, r));
  assert.deepEqual(npy(d), ort);
});

test('--engine with a bad value, bf16 with onnxruntime, an .onnx with libtorch: one-line UsageErrors (exit 2)', () => {
  const out = join(dir, 'x.npy');
  const cases: [string[], RegExp][] = [
    [
      embedArgs(out, '--engine', 'tensorrt'),
      /^normsoftmax: --engine: expected libtorch or onnxruntime, got "tensorrt"\n$/,
    ],
    [
      embedArgs(out, '--engine', 'onnxruntime', '--precision', 'bf16'),
      /^normsoftmax: --precision bf16: applies to --engine libtorch only/,
    ],
    [
      [
        'index',
        'build',
        '--out',
        join(dir, 'idx'),
        '--checkpoint',
        r18,
        '--arch',
        'resnet18',
        '--images',
        images,
        '--engine',
        'x',
      ],
      /^normsoftmax: --engine: expected libtorch or onnxruntime, got "x"\n$/,
    ],
    [
      ['serve', '--index', join(dir, 'no-index'), '--engine', 'onnx'],
      /^normsoftmax: --engine: expected libtorch or onnxruntime, got "onnx"\n$/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = runCli(args);
    assert.equal(r.code, 2, describeRun(args, r));
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  writeFileSync(join(dir, 'm.onnx'), 'x');
  const args = ['embed', '--checkpoint', join(dir, 'm.onnx'), '--engine', 'libtorch', '--images', images, '--out', out];
  const r = runCli(args);
  assert.equal(r.code, 2, describeRun(args, r));
  assert.match(r.stderr, /an ONNX model runs with --engine onnxruntime only/);
});

test('the cache: reused when unchanged; re-exported for a changed checkpoint, another dim, a damaged file', () => {
  const w = smallcnnWeights(join(dir, 'cnn.safetensors'), 1);
  const first = cachedOnnx(w, { arch: 'smallcnn', dim: 8 });
  assert.equal(first.exported, true);
  assert.equal(first.path, `${w}.onnx`);
  const again = cachedOnnx(w, { arch: 'smallcnn', dim: 8 });
  assert.equal(again.exported, false);
  assert.equal(again.sha256, first.sha256);
  // no --dim: the cached model (dim 8 from the same file) is still good
  assert.equal(cachedOnnx(w, { arch: 'smallcnn' }).exported, false);
  // other weights in the same file name
  smallcnnWeights(w, 2);
  const changed = cachedOnnx(w, { arch: 'smallcnn', dim: 8 });
  assert.equal(changed.exported, true);
  assert.notEqual(changed.sha256, first.sha256);
  // a model file that no longer matches its sidecar
  writeFileSync(changed.path, Buffer.concat([readFileSync(changed.path), Buffer.from([0])]));
  assert.equal(cachedOnnx(w, { arch: 'smallcnn', dim: 8 }).exported, true);
  assert.equal(cachedOnnx(w, { arch: 'smallcnn', dim: 8 }).exported, false);
  // bare torchvision weights: another --dim is another model
  const r18dim = cachedOnnx(r18, { arch: 'resnet18', dim: 8 });
  assert.equal(cachedOnnx(r18, { arch: 'resnet18', dim: 8 }).exported, false);
  const other = cachedOnnx(r18, { arch: 'resnet18', dim: 4 });
  assert.equal(other.exported, true);
  assert.notEqual(other.sha256, r18dim.sha256);
});

// Root writes into a read-only folder: under root the check runs in a child as nobody (uid and gid 65534),
// elsewhere in a child as the user running the tests, so it applies everywhere.
const AS_ROOT = process.getuid?.() === 0;
const NOBODY = 65534;
const unprivileged = AS_ROOT ? { uid: NOBODY, gid: NOBODY } : {};
const dropFails = AS_ROOT
  ? spawnSync(process.execPath, ['-e', ''], { ...unprivileged, stdio: 'ignore' })
  : { status: 0, error: undefined };
const readOnlySkip = cannotApplyHere(
  dropFails.status !== 0 &&
    `the tests run as root, and uid ${NOBODY} cannot run ${process.execPath} here (${dropFails.error?.message ?? `exit ${dropFails.status}`})`,
);

test(`the cache goes to $NORMSOFTMAX_HOME/onnx when the checkpoint folder is read-only${AS_ROOT ? ' (as nobody)' : ''}`, {
  skip: readOnlySkip,
}, () => {
  // A folder of its own that the unprivileged user can enter (mkdtemp's are 0700).
  const base = mkdtempSync(join(tmpdir(), 'normsoftmax-onnx-ro-'));
  try {
    chmodSync(base, 0o755);
    const ro = join(base, 'ro');
    mkdirSync(ro);
    const w = join(ro, 'cnn.safetensors');
    copyFileSync(smallcnnWeights(join(dir, 'cnn-ro.safetensors'), 3), w);
    chmodSync(w, 0o644);
    chmodSync(ro, 0o555);
    const home = join(base, 'home');
    mkdirSync(home);
    if (AS_ROOT) chownSync(home, NOBODY, NOBODY);
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'child', 'onnx-cache-readonly.ts'), w],
      {
        ...unprivileged,
        cwd: REPO_ROOT,
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, NORMSOFTMAX_HOME: home, HOME: home },
      },
    );
    assert.equal(r.status, 0, `the child exited with ${r.status ?? r.signal}:\n${r.stderr}`);
    const got = JSON.parse(r.stdout) as { path: string; exported: boolean[] };
    assert.ok(got.path.startsWith(join(home, 'onnx', 'cnn.safetensors-')), got.path);
    assert.deepEqual(got.exported, [true, false]);
    assert.deepEqual(readdirSync(ro), ['cnn.safetensors'], 'nothing was written next to the checkpoint');
  } finally {
    if (existsSync(join(base, 'ro'))) chmodSync(join(base, 'ro'), 0o755);
    rmSync(base, { recursive: true, force: true });
  }
});

test('both engines behind EmbeddingEngine: same vectors for a batch; a wrong shape is a UsageError', async () => {
  const w = smallcnnWeights(join(dir, 'cnn-engines.safetensors'), 5);
  const torch = await openEngine(w, { engine: 'libtorch', arch: 'smallcnn', dim: 8 });
  const ort = await openEngine(w, { engine: 'onnxruntime', arch: 'smallcnn', dim: 8, threads: 1 });
  try {
    assert.deepEqual(ort.input, { ...torch.input, mean: [...torch.input.mean], std: [...torch.input.std] });
    const batch = new Float32Array(3 * 28 * 28).map((_, i) => Math.sin(i * 0.37) + ((i * 7919) % 13) / 13);
    const a = await torch.engine.embed(batch, [3, 1, 28, 28]);
    const b = await ort.engine.embed(batch, [3, 1, 28, 28]);
    assert.equal(a.length, 24);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs((a[i] as number) - (b[i] as number)) < 1e-5, `${i}`);
    for (const e of [torch.engine, ort.engine]) {
      await assert.rejects(e.embed(batch, [3, 3, 28, 28]), UsageError);
      await assert.rejects(e.embed(batch, [2, 1, 28, 28]), UsageError);
    }
  } finally {
    torch.engine.dispose();
    ort.engine.dispose();
  }
});

test('an index built from an .onnx model: search --image embeds the query with onnxruntime', () => {
  const onnx = cachedOnnx(r18, { arch: 'resnet18', dim: 16 }).path;
  const idx = join(dir, 'onnx-idx');
  const build = ['index', 'build', '--checkpoint', onnx, '--images', images, '--out', idx, '--workers', '1'];
  let r = runCli(build);
  assert.equal(r.code, 0, describeRun(build, r));
  assert.match(r.stderr, /model: .*r18\.safetensors\.onnx \(ONNX model, resnet18, dim 16\) on onnxruntime/);
  const search = ['search', '--index', idx, '--image', join(images, 'class1', 'img1.png'), '-k', '1', '--json'];
  r = runCli(search);
  assert.equal(r.code, 0, describeRun(search, r));
  const hit = JSON.parse(r.stdout.trim().split('\n')[0] as string).results[0];
  assert.equal(hit.id, 'class1/img1.png');
  assert.ok(hit.score > 0.9999, String(hit.score));
});
