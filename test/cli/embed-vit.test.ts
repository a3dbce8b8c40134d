// A ViT's own preprocessing through the commands (issue 20 point 2): bare DINO ViT-S/16 weights (random,
// in the published file's key layout) given to `embed` must be fed as DINO evaluates (shorter side to 256,
// bicubic, centre 224, ImageNet statistics): each photo's vector equals the model's forward on the
// publisher's own crop (tools/golden/pipeline_vit.py, from facebookresearch/dinov2's eval transform), and
// not the paper's square bilinear one, on the default engine (onnxruntime: the ViT exported; the reference
// vectors are libtorch's); `index build` records the pipeline, `index info` says it, and `search --image` prepares a
// query the same way (an item finds itself with score 1).
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { loadModel } from '../../src/embed/load-model.js';
import { loadNpy } from '../../src/io/npy.js';
import { saveSafetensors } from '../../src/io/safetensors.js';
import { createEmbedder, type Embedder } from '../../src/nn/embedder.js';
import { manualSeed, noGrad, scope, tensor } from '../../src/tensor/index.js';
import { describeRun, runCli } from '../helpers/cli.js';
import { GOLDEN_DIR } from '../helpers/golden.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-embed-vit-'));
const weights = join(dir, 'dino_vits16.safetensors');
const images = join(dir, 'images');
const idx = join(dir, 'idx');
const PHOTOS = ['portrait.png', 'landscape.png'];
const MODEL = () => ['--checkpoint', weights, '--arch', 'dino_vits16', '--dim', '8'];
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

const cli = (args: string[]) => {
  const r = runCli(args);
  assert.equal(r.code, 0, describeRun(args, r));
  return r;
};

before(() => {
  for (const [i, name] of PHOTOS.entries()) {
    mkdirSync(join(images, `c${i}`), { recursive: true });
    copyFileSync(join(GOLDEN_DIR, 'pipeline-vit', name), join(images, `c${i}`, name));
  }
  manualSeed(20);
  const model = createEmbedder({ arch: 'dino_vits16', dim: 8 });
  // The published file's layout: the backbone's keys alone (blocks.0.attn.qkv.weight, ...).
  saveSafetensors(weights, model.backbone.stateDict());
  model.dispose();
});

let reference: Embedder | undefined;
after(() => {
  reference?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** The model's embeddings of 224 x 224 RGB crops (PNG files), normalised as DINO does, in process (libtorch). */
async function embedCrops(paths: string[]): Promise<Float32Array> {
  const plane = 224 * 224;
  const x = new Float32Array(paths.length * 3 * plane);
  for (const [n, path] of paths.entries()) {
    const { data, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    assert.equal(info.width * info.height, plane);
    for (let i = 0; i < plane; i++)
      for (let k = 0; k < 3; k++)
        x[(n * 3 + k) * plane + i] = Math.fround(
          Math.fround(Math.fround((data[i * 3 + k] as number) / 255) - Math.fround(MEAN[k] as number)) /
            Math.fround(STD[k] as number),
        );
  }
  reference ??= loadModel(weights, { arch: 'dino_vits16', dim: 8 }).model;
  const model = reference;
  return scope(() =>
    noGrad(() => model.forward(tensor(x, { shape: [paths.length, 3, 224, 224] })).toTypedArray() as Float32Array),
  );
}

function cosines(a: Float32Array, b: Float32Array, dim: number): number[] {
  return Array.from({ length: a.length / dim }, (_, r) => {
    let dot = 0;
    for (let i = 0; i < dim; i++) dot += (a[r * dim + i] as number) * (b[r * dim + i] as number);
    return dot;
  });
}

test("embed feeds bare DINO weights the publisher's crop: the same vectors as its crop, not the paper's", async () => {
  const out = join(dir, 'x.npy');
  cli(['embed', ...MODEL(), '--images', images, '--out', out]);
  const t = loadNpy(out);
  const got = t.toTypedArray() as Float32Array;
  t.dispose();
  const sidecar = JSON.parse(readFileSync(join(dir, 'x.json'), 'utf8')) as { paths: string[] };
  const order = sidecar.paths.map((p) => PHOTOS.find((name) => p.endsWith(name)) as string);
  const publisher = await embedCrops(order.map((name) => join(GOLDEN_DIR, 'pipeline-vit', `${name}.dinov2.png`)));
  for (const c of cosines(got, publisher, 8)) assert.ok(c > 0.99999, `cosine to the publisher's crop ${c}`);
  // The paper's square 256 x 256 bilinear resize of the same photo is another input: the check can fail.
  const square = join(dir, 'square.png');
  const { data, info } = await sharp(join(images, 'c0', 'portrait.png'))
    .resize(256, 256, { fit: 'fill', kernel: 'linear' })
    .extract({ left: 16, top: 16, width: 224, height: 224 })
    .raw()
    .toBuffer({ resolveWithObject: true });
  await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
    .png()
    .toFile(square);
  const [other] = cosines((await embedCrops([square])).subarray(0, 8), publisher.subarray(0, 8), 8);
  assert.ok((other as number) < 0.9999, `the square crop's vector is ${other} from the publisher's`);
});

test('index build records the pipeline, index info says it, search --image finds each photo with score 1', () => {
  cli(['index', 'build', ...MODEL(), '--images', images, '--out', idx, '--workers', '1']);
  const manifest = JSON.parse(readFileSync(join(idx, 'manifest.json'), 'utf8'));
  const e = manifest.embedder;
  assert.deepEqual(
    [e.arch, e.resize, e.crop, e.input.resizeMode, e.input.resizeFilter, e.input.mean],
    ['dino_vits16', 256, 224, 'shorter', 'bicubic', MEAN],
  );
  assert.match(cli(['index', 'info', idx]).stdout, /resize 256 \(shorter side, bicubic\), crop 224/);
  const queries = PHOTOS.flatMap((name, i) => ['--image', join(images, `c${i}`, name)]);
  const lines = cli(['search', '--index', idx, ...queries, '-k', '1', '--json'])
    .stdout.trim()
    .split('\n');
  for (const [i, name] of PHOTOS.entries()) {
    const hit = JSON.parse(lines[i] as string).results[0];
    assert.equal(hit.id, `c${i}/${name}`);
    assert.ok(hit.score >= 0.99999, `${name}: score ${hit.score}`);
  }
});
