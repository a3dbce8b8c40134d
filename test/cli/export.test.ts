// `normsoftmax export` end to end (issue 11 point 1): a checkpoint and bare embedder weights become ONNX
// models that onnxruntime-node runs to the libtorch embeddings, with the file's identity in the metadata;
// wrong flags are exit 2, a missing checkpoint exit 3, each one line, and --out is never half-written.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadModel } from '../../src/embed/load-model.js';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, writeCheckpointFile } from '../../src/io/checkpoint-file.js';
import { saveSafetensors } from '../../src/io/safetensors.js';
import { Generator, noGrad, randn, scope } from '../../src/tensor/index.js';
import {
  cosine,
  decodeModel,
  metadataOf,
  opTypes,
  randomEmbedder,
  row,
  runOnnx,
  session,
} from '../embed/onnx/helpers.js';
import { describeRun, runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'export-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const DIM = 16;
const calibration = randn([4, 1, 28, 28], { generator: new Generator(1) });
const model = randomEmbedder('smallcnn', DIM, 2, calibration);
calibration.dispose();
const checkpoint = join(dir, 'run.ckpt');
writeCheckpointFile(checkpoint, {
  meta: {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    config: { arch: 'smallcnn', dim: DIM, resize: 0, crop: 0 },
    epochsDone: 3,
  },
  model: model.stateDict(),
  loss: {},
  optimizer: {},
  torchRng: null,
});
const weights = join(dir, 'embedder.safetensors');
saveSafetensors(weights, model.stateDict());
model.dispose();

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** onnxruntime's embeddings of two random images against the same file loaded as `embed` loads it. */
async function assertMatchesLibtorch(onnxPath: string, source: string, args: { arch?: string; dim?: number } = {}) {
  const x = randn([2, 1, 28, 28], { generator: new Generator(9) });
  const { model: loaded } = loadModel(source, args);
  const want = scope(() => noGrad(() => loaded.forward(x).toTypedArray())) as Float32Array;
  loaded.dispose();
  const s = await session(readFileSync(onnxPath));
  try {
    const got = await runOnnx(s, x.toTypedArray() as Float32Array, [2, 1, 28, 28]);
    for (const i of [0, 1]) {
      const cos = cosine(row(got.data, DIM, i), row(want, DIM, i));
      assert.ok(cos >= 0.9999, `row ${i}: cosine ${cos}`);
    }
  } finally {
    await s.release();
    x.dispose();
  }
}

describe('normsoftmax export', () => {
  test('a checkpoint: defaults (opset 17, BatchNorm folded, batch N), identity in metadata_props', async () => {
    const out = join(dir, 'ckpt.onnx');
    const args = ['export', '--checkpoint', checkpoint, '--format', 'onnx', '--out', out];
    const r = runCli(args);
    assert.equal(r.code, 0, describeRun(args, r));
    assert.match(r.stdout, /ONNX opset 17/);
    const bytes = readFileSync(out);
    const meta = metadataOf(bytes);
    assert.equal(meta.source_kind, 'checkpoint');
    assert.equal(meta.checkpoint_name, 'run.ckpt');
    assert.equal(meta.checkpoint_sha256, sha256(checkpoint));
    assert.equal(meta.arch, 'smallcnn');
    assert.equal(meta.dim, String(DIM));
    assert.equal(meta.fold_bn, 'true');
    assert.ok(!opTypes(bytes).includes('BatchNormalization'));
    assert.equal(Number(decodeModel(bytes).opsetImport[0]?.version), 17);
    await assertMatchesLibtorch(out, checkpoint);
  });

  test('bare embedder weights with --arch/--dim, --opset 13 --no-fold-bn --no-dynamic-batch', async () => {
    const out = join(dir, 'weights.onnx');
    const args = ['export', '--checkpoint', weights, '--arch', 'smallcnn', '--dim', String(DIM), '--out', out];
    args.push('--opset', '13', '--no-fold-bn', '--no-dynamic-batch');
    const r = runCli(args);
    assert.equal(r.code, 0, describeRun(args, r));
    const bytes = readFileSync(out);
    const meta = metadataOf(bytes);
    assert.equal(meta.source_kind, 'weights');
    assert.equal(meta.checkpoint_sha256, sha256(weights));
    assert.equal(meta.fold_bn, 'false');
    const proto = decodeModel(bytes);
    assert.equal(Number(proto.opsetImport[0]?.version), 13);
    assert.equal(opTypes(bytes).filter((op) => op === 'BatchNormalization').length, 3);
    assert.equal(Number(proto.graph?.input?.[0]?.type?.tensorType?.shape?.dim?.[0]?.dimValue), 1);
    // Fixed batch 1: compare one image at a time.
    const x = randn([1, 1, 28, 28], { generator: new Generator(4) });
    const { model: loaded } = loadModel(weights, { arch: 'smallcnn', dim: DIM });
    const want = scope(() => noGrad(() => loaded.forward(x).toTypedArray())) as Float32Array;
    loaded.dispose();
    const s = await session(bytes);
    try {
      const got = await runOnnx(s, x.toTypedArray() as Float32Array, [1, 1, 28, 28]);
      assert.ok(cosine(got.data, want) >= 0.9999);
    } finally {
      await s.release();
      x.dispose();
    }
  });

  test('a weights name (--checkpoint NAME) uses the cached file and the architecture from the table', () => {
    const home = join(dir, 'home');
    mkdirSync(join(home, 'weights'), { recursive: true });
    writeFileSync(join(home, 'weights', 'tiny-abc.safetensors'), readFileSync(weights));
    const table = join(dir, 'table.json');
    const entry = { url: 'http://127.0.0.1:9/tiny-abc.safetensors', sha256: sha256(weights), arch: 'smallcnn' };
    writeFileSync(table, JSON.stringify({ tiny: entry }));
    const out = join(dir, 'named.onnx');
    const args = ['export', '--checkpoint', 'tiny', '--dim', String(DIM), '--out', out];
    const r = runCli(args, { env: { NORMSOFTMAX_WEIGHTS_TABLE: table, NORMSOFTMAX_HOME: home } });
    assert.equal(r.code, 0, describeRun(args, r));
    const meta = metadataOf(readFileSync(out));
    assert.equal(meta.checkpoint_name, 'tiny');
    assert.equal(meta.checkpoint_sha256, sha256(weights));
    assert.equal(meta.arch, 'smallcnn');
    assert.equal(meta.source_kind, 'weights');
  });

  const oneLine = (s: string) => s.trim().split('\n').length === 1;

  test('flag errors are exit 2, one line naming the flag, and write nothing', () => {
    const out = join(dir, 'never.onnx');
    const cases: [string[], RegExp][] = [
      [['--opset', '9'], /--opset: expected an integer from 10 .* to 23/],
      [['--format', 'tflite'], /--format: expected onnx, got "tflite"/],
    ];
    for (const [extra, message] of cases) {
      const args = ['export', '--checkpoint', checkpoint, '--out', out, ...extra];
      const r = runCli(args);
      assert.equal(r.code, 2, describeRun(args, r));
      assert.match(r.stderr, message);
      assert.ok(oneLine(r.stderr), describeRun(args, r));
    }
    const args = ['export', '--checkpoint', checkpoint, '--out', join(dir, 'model.bin')];
    const r = runCli(args);
    assert.equal(r.code, 2, describeRun(args, r));
    assert.match(r.stderr, /--out .*model\.bin: expected a \.onnx file name/);
    assert.ok(!readdirSync(dir).some((f) => f.startsWith('never.onnx') || f.startsWith('model.bin')));
  });

  test('a missing checkpoint is exit 3 (one line) and leaves an existing --out as it was', () => {
    const out = join(dir, 'kept.onnx');
    writeFileSync(out, 'previous model');
    const args = ['export', '--checkpoint', join(dir, 'missing.ckpt'), '--out', out];
    const r = runCli(args);
    assert.equal(r.code, 3, describeRun(args, r));
    assert.match(r.stderr, /--checkpoint .*missing\.ckpt/);
    assert.ok(oneLine(r.stderr), describeRun(args, r));
    assert.equal(readFileSync(out, 'utf8'), 'previous model');
  });

  test('an --out that cannot be written is exit 1, one line, with no temporary file left behind', () => {
    const sub = join(dir, 'blocked');
    mkdirSync(join(sub, 'model.onnx'), { recursive: true }); // a directory where the file should go
    const args = ['export', '--checkpoint', checkpoint, '--out', join(sub, 'model.onnx')];
    const r = runCli(args);
    assert.equal(r.code, 1, describeRun(args, r));
    assert.match(r.stderr, /model\.onnx: cannot write the ONNX model/);
    assert.ok(oneLine(r.stderr.replace(/^model: .*\n/m, '')), describeRun(args, r));
    assert.deepEqual(readdirSync(sub), ['model.onnx']);
  });
});
