// `embed` then `eval` with the files `embed` wrote (issue 8, point 2): embed --out X.npy writes X.json
// (paths and labels) next to it, and eval takes X.json as --labels, or finds it by itself.
// Bare torchvision-layout ResNet-18 weights (seeded) on a generated folder of 3 classes x 4 images.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadNpy, saveNpy } from '../../src/io/npy.js';
import { tensor } from '../../src/tensor/index.js';
import { describeRun, runCli } from '../helpers/cli.js';
import { type ImageFolder, writeImageFolder } from '../helpers/images.js';
import { recallRange, rowsOf } from '../helpers/recall.js';
import { writeResnetWeights } from '../helpers/weights.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-embed-eval-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('embed --out X.npy, then eval reads X.json', () => {
  let folder: ImageFolder;
  const npy = join(dir, 'test.npy');
  const sidecar = join(dir, 'test.json');
  let embedRun: ReturnType<typeof runCli>;
  const evalJson = (...args: string[]) => {
    const r = runCli(['eval', ...args, '--json']);
    assert.equal(r.code, 0, describeRun(args, r));
    return JSON.parse(r.stdout) as { float: { recall: Record<string, number> } };
  };

  before(async () => {
    folder = await writeImageFolder(join(dir, 'images'), 3, 4, { noise: 256 });
    const weights = writeResnetWeights(join(dir, 'resnet18.safetensors'));
    const args = ['embed', '--checkpoint', weights, '--arch', 'resnet18', '--images', folder.root, '--out', npy];
    embedRun = runCli(args);
    assert.equal(embedRun.code, 0, describeRun(args, embedRun));
  });

  test('embed writes X.npy (unit rows) and X.json with the sorted paths and folder labels', () => {
    const x = loadNpy(npy);
    assert.deepEqual(x.shape, [12, 512]);
    for (const norm of x.norm(2, 1).toArray()) assert.ok(Math.abs(norm - 1) < 1e-5, `unit length (${norm})`);
    x.dispose();
    assert.deepEqual(JSON.parse(readFileSync(sidecar, 'utf8')), { paths: folder.paths, labels: folder.labels });
    assert.match(embedRun.stdout, /12 x 512 embeddings -> .*test\.npy \(paths and labels: .*test\.json\)/);
  });

  test('not on a terminal, progress is plain lines (no carriage returns, no escape codes)', () => {
    assert.match(embedRun.stderr, /^embedding 12\/12 .*eta \d+m\d+s$/m);
    assert.ok(!embedRun.stderr.includes('\r'), 'no carriage return');
    assert.ok(!embedRun.stderr.includes('\u001b['), 'no terminal escape code');
  });

  test('eval --labels X.json, eval with no --labels, and eval --labels labels.npy agree with a direct count', () => {
    const x = loadNpy(npy);
    const rows = rowsOf(x.toTypedArray() as Float32Array, 512);
    x.dispose();
    // Random weights put the embeddings close together: a near-tie (scores within 1e-5) may go either
    // way in a float32 GEMM, so the count allows each its two orders; the three runs agree exactly.
    const ks = [1, 2, 4, 8];
    const expected = recallRange(rows, folder.labels, ks);
    const labelsNpy = join(dir, 'labels.npy');
    saveNpy(labelsNpy, tensor(Int32Array.from(folder.labels)));
    const fromSidecar = evalJson('--embeddings', npy, '--labels', sidecar).float.recall;
    for (const k of ks) {
      const [least, most] = expected[String(k)] as [number, number];
      const got = fromSidecar[String(k)] as number;
      assert.ok(got >= least && got <= most, `R@${k} ${got}, a direct count gives ${least} to ${most}`);
      // Near-ties decide at most two queries of the twelve here: the count still pins the number.
      assert.ok(most - least <= 200 / 12 + 1e-9, `R@${k}: ${least} to ${most}`);
    }
    assert.deepEqual(evalJson('--embeddings', npy).float.recall, fromSidecar);
    assert.deepEqual(evalJson('--embeddings', npy, '--labels', labelsNpy).float.recall, fromSidecar);
    // Each image has 3 of its class and 8 of other classes among the 11 others: at K = 9 a hit is certain.
    assert.equal(evalJson('--embeddings', npy, '--k', '9').float.recall['9'], 100);
  });

  test('query/gallery mode finds both sidecars; nothing is excluded, so each query finds itself first', () => {
    const out = evalJson('--query-embeddings', npy, '--gallery-embeddings', npy, '--k', '1');
    assert.deepEqual(out.float.recall, { '1': 100 });
  });

  test('without --labels and without X.json next to the embeddings: a usage error naming both', () => {
    const lone = join(dir, 'lone.npy');
    copyFileSync(npy, lone);
    const r = runCli(['eval', '--embeddings', lone]);
    assert.equal(r.code, 2, describeRun(['eval'], r));
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^normsoftmax: --embeddings .*lone\.npy: no --labels given and no .*lone\.json next to it/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
});
