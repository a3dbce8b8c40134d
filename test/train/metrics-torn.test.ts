// A training run killed while appending to OUT/metrics.jsonl leaves a torn last line: readMetrics drops
// it (a bad line elsewhere is an error naming it), and `train --resume` continues and rewrites the file
// without it. The kill is a real one (NORMSOFTMAX_FAULT=train:mid-metrics@4: halfway through the 4th
// record, epoch 2's record, after epoch 1's checkpoint).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readMetrics } from '../../src/train/metrics.js';
import { CLI, REPO_ROOT } from '../helpers/cli.js';
import { writeImageFolder } from '../helpers/images.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-metrics-torn-'));
const data = join(dir, 'data');
after(() => rmSync(dir, { recursive: true, force: true }));
before(async () => {
  await writeImageFolder(data, 4, 8, { size: 28 });
});

test('readMetrics drops a torn last line; a bad line elsewhere is refused with its number', () => {
  const path = join(dir, 'm.jsonl');
  const a = '{"type":"step","epoch":1,"step":2,"loss":1,"lr":0.1}';
  writeFileSync(path, `${a}\n${a}\n{"type":"epo`);
  assert.equal(readMetrics(path).length, 2);
  writeFileSync(path, `${a}\n{"type":"epo\n${a}\n`);
  assert.throws(() => readMetrics(path), { message: `${path}: line 2 is not a JSON record` });
});

function train(out: string, env: Record<string, string>, ...extra: string[]) {
  const args = [
    ...['train', '--dataset', 'folder', '--root', data, '--out', out, '--arch', 'smallcnn', '--dim', '16'],
    ...['--batch-size', '8', '--images-per-class', '4', '--resize', '28', '--crop', '28', '--warmup-epochs', '0'],
    ...['--epochs-per-step', '1', '--num-steps', '2', '--max-batches-per-epoch', '2', '--k', '1', '--seed', '3'],
    ...['--eval-every', '100', '--threads', '1', '--workers', '1', ...extra],
  ];
  return spawnSync(process.execPath, [CLI, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, NORMSOFTMAX_THREADS: '1', ...env },
  });
}

test('train --resume after a kill that tore the last metrics.jsonl line', () => {
  const out = join(dir, 'run');
  const killed = train(out, { NORMSOFTMAX_FAULT: 'train:mid-metrics@4' });
  assert.equal(killed.signal, 'SIGKILL', killed.stderr);
  const text = readFileSync(join(out, 'metrics.jsonl'), 'utf8');
  assert.ok(!text.endsWith('\n'), 'the last line is torn');
  assert.throws(() => JSON.parse(text.slice(text.lastIndexOf('\n') + 1)));
  assert.deepEqual(
    readMetrics(join(out, 'metrics.jsonl')).map((r) => `${r.type} ${r.epoch}`),
    ['step 1', 'epoch 1', 'step 2'],
    "the 4th record, torn, is epoch 2's",
  );
  assert.ok(existsSync(join(out, 'last.safetensors')), "epoch 1's checkpoint");

  const resumed = train(out, {}, '--resume', join(out, 'last.safetensors'));
  assert.equal(resumed.status, 0, resumed.stderr);
  const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').split('\n');
  assert.equal(lines.pop(), '', 'ends with a newline');
  const records = lines.map((l) => JSON.parse(l) as { type: string; epoch: number });
  assert.deepEqual(
    records.map((r) => `${r.type} ${r.epoch}`),
    ['step 1', 'epoch 1', 'step 2', 'epoch 2'],
    'each record once, in order, the torn one gone',
  );
});
