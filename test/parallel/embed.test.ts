// `embed --nproc-per-node 2`: each rank embeds its contiguous slice (9 images: 5 and 4, the short one
// padded for the allgather), rank 0 gathers and writes X.npy and X.json once; the rows equal one
// process embedding all the images.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { embeddingSlice } from '../../src/embed/embed-shard.js';
import { loadNpy } from '../../src/io/npy.js';
import { distributedUnavailableReason } from '../../src/tensor/process-group.js';
import { describeRun, runCli } from '../helpers/cli.js';
import { writeImageFolder } from '../helpers/images.js';
import { needsInstalled } from '../helpers/skip.js';
import { writeResnetWeights } from '../helpers/weights.js';
import { freePort } from './helpers.js';

const skip = needsInstalled(distributedUnavailableReason());
const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-dist-embed-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('embedding slices: ceil(N / W) rows each, the last ones shorter or empty', () => {
  assert.deepEqual(embeddingSlice(9, 0, 2), { start: 0, end: 5, per: 5 });
  assert.deepEqual(embeddingSlice(9, 1, 2), { start: 5, end: 9, per: 5 });
  assert.deepEqual(embeddingSlice(2, 2, 3), { start: 2, end: 2, per: 1 });
});

test('embed --nproc-per-node 2 writes the rows of a 1-process embed, once, from rank 0', { skip }, async () => {
  const folder = await writeImageFolder(join(dir, 'images'), 3, 3, { noise: 256 });
  const weights = writeResnetWeights(join(dir, 'resnet18.safetensors'));
  const base = [
    'embed',
    '--checkpoint',
    weights,
    '--arch',
    'resnet18',
    '--images',
    folder.root,
    '--engine',
    'libtorch',
  ];
  const oneArgs = [...base, '--threads', '1', '--out', join(dir, 'one', 'x.npy')];
  const one = runCli(oneArgs);
  assert.equal(one.code, 0, describeRun(oneArgs, one));
  const twoArgs = [
    ...base,
    '--out',
    join(dir, 'two', 'x.npy'),
    '--nproc-per-node',
    '2',
    '--master-port',
    String(await freePort()),
  ];
  const two = runCli(twoArgs, { env: { NORMSOFTMAX_THREADS: undefined } });
  assert.equal(two.code, 0, describeRun(twoArgs, two));
  assert.equal(two.stdout.match(/9 x 512 embeddings -> /g)?.length, 1, two.stdout);
  assert.equal(two.stderr.match(/^model: /gm)?.length, 1, two.stderr);
  assert.match(two.stderr, /distributed: world size 2 \(2 per node\), backend gloo/);
  assert.deepEqual(readdirSync(join(dir, 'two')).sort(), ['x.json', 'x.npy'], 'no temporary files left');
  assert.equal(readFileSync(join(dir, 'two', 'x.json'), 'utf8'), readFileSync(join(dir, 'one', 'x.json'), 'utf8'));
  const a = loadNpy(join(dir, 'one', 'x.npy'));
  const b = loadNpy(join(dir, 'two', 'x.npy'));
  assert.deepEqual(b.shape, [9, 512]);
  const x = a.toTypedArray() as Float32Array;
  const y = b.toTypedArray() as Float32Array;
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs((x[i] as number) - (y[i] as number)));
  // the last image's row is rank 1's: a shifted or padded row would differ by ~0.1
  assert.ok(worst <= 1e-6, `largest difference ${worst}`);
  a.dispose();
  b.dispose();
});
