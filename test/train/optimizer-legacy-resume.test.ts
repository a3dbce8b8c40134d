// Checkpoints whose optimiser state predates AdamW's parameter groups (weight decay on weights only) still
// resume (src/train/optimizer-resume.ts): the old layout, one group per phase with the backbone's parameters
// then the new ones, is mapped onto this run's groups parameter by parameter, and the run says so. The test
// writes such a checkpoint itself, from a run's own checkpoint with its state renumbered into the old layout
// (and no parameter names), and checks that resuming it trains exactly the weights of an uninterrupted run,
// as resuming the new checkpoint does, and one without names in this run's layout (written after the groups,
// before the names) loads as it is. Also: remapOptimizerState renumbers by name and refuses other parameters.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createEmbedder } from '../../src/nn/embedder.js';
import { tensor } from '../../src/tensor/index.js';
import { disposeCheckpoint, loadCheckpoint, saveCheckpoint } from '../../src/train/checkpoint.js';
import type { TrainConfig } from '../../src/train/config.js';
import type { OptimizerStateDict } from '../../src/train/optim/optimizer.js';
import { remapOptimizerState } from '../../src/train/optim/remap-state.js';
import { runSession } from '../../src/train/session.js';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { tinyTrainConfig } from '../helpers/tiny-train-config.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-legacy-optim-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const config = (out: string, numSteps: number): TrainConfig =>
  tinyTrainConfig({
    out: join(dir, out),
    optimizer: 'adamw',
    weightDecay: 0.05,
    lr: 0.002,
    warmupEpochs: 0,
    numSteps,
    k: [1],
    seed: 4,
  });

async function train(c: TrainConfig, resume?: string, log: (l: string) => void = () => {}) {
  const r = await runSession(c, { dataset: syntheticDataset(), silent: false, log, resume });
  const weights = new Map(Object.entries(r.model.stateDict()).map(([k, t]) => [k, t.toArray()]));
  r.model.dispose();
  return weights;
}

/** The checkpoint at `from` rewritten to `to` as the code before AdamW's groups wrote it. */
function writeLegacy(from: string, to: string, layout: 'legacy' | 'unnamed'): { groups: number[] } {
  const ckpt = loadCheckpoint(from);
  try {
    const meta = ckpt.meta.optimizer as OptimizerStateDict['meta'];
    const names = ckpt.meta.optimizerParams as string[];
    const c = ckpt.meta.config;
    // The old order: the backbone's parameters as the model lists them, then the remap layer's, then the loss's.
    const model = createEmbedder({ arch: c.arch, dim: c.dim, uninitialisedBackbone: true });
    const modelOrder = model.namedParameters().map(([n]) => n);
    model.dispose();
    const backbone = modelOrder.filter((n) => n.startsWith('backbone.'));
    const fresh = [
      ...modelOrder.filter((n) => !n.startsWith('backbone.')),
      ...names.filter((n) => n.startsWith('loss.')),
    ];
    const old = [...backbone, ...fresh];
    assert.deepEqual([...old].sort(), [...names].sort());
    const oldIndex = (i: string) => old.indexOf(names[Number(i)] as string);
    const tensors: Record<string, ReturnType<typeof tensor>> = {};
    for (const [key, t] of Object.entries(ckpt.optimizer)) {
      const m = /^state\.(\d+)\.(\w+)$/.exec(key) as RegExpExecArray;
      tensors[`state.${oldIndex(m[1] as string)}.${m[2]}`] = t;
    }
    const counters: Record<string, Record<string, number>> = {};
    for (const [i, v] of Object.entries(meta.counters)) counters[oldIndex(i)] = v;
    const range = (a: number, n: number) => Array.from({ length: n }, (_, i) => a + i);
    const groups = meta.groups.map((g) => g.params.length);
    const legacyMeta = {
      ...meta,
      counters,
      groups: [
        { lrMult: 1, weightDecay: c.weightDecay, params: range(0, backbone.length) },
        { lrMult: c.lrMult, weightDecay: c.weightDecay, params: range(backbone.length, fresh.length) },
      ],
    };
    const { optimizerParams: _names, ...rest } = ckpt.meta;
    mkdirSync(join(to, '..'), { recursive: true });
    // 'unnamed': this run's own layout without the names (written after the groups, before the names).
    if (layout === 'unnamed') saveCheckpoint(to, { ...ckpt, meta: rest });
    else saveCheckpoint(to, { ...ckpt, meta: { ...rest, optimizer: legacyMeta }, optimizer: tensors });
    return { groups };
  } finally {
    disposeCheckpoint(ckpt);
  }
}

test('an AdamW checkpoint in the layout before its parameter groups resumes exactly, mapped by parameter', async () => {
  const straight = await train(config('straight', 2));
  await train(config('split', 1));
  const saved = join(dir, 'split', 'last.safetensors');
  const legacy = join(dir, 'legacy', 'last.safetensors');
  const unnamed = join(dir, 'unnamed', 'last.safetensors');
  const { groups } = writeLegacy(saved, legacy, 'legacy');
  writeLegacy(saved, unnamed, 'unnamed');
  // The new layout differs: the backbone's decayed weights and its exempt norms and biases in two groups.
  assert.ok(groups.length >= 3, `groups of sizes ${groups}`);

  const lines: string[] = [];
  const fromLegacy = await train(config('legacy', 2), legacy, (l) => lines.push(l));
  assert.ok(
    lines.includes(
      `--resume: the checkpoint's adamw state is in the layout from before AdamW's parameter groups (2 groups): mapped onto this run's ${groups.length} parameter by parameter; from here on weight decay applies to weights only, not to norms, biases, tokens or positions`,
    ),
    lines.join('\n'),
  );
  // Without parameter names but in this run's layout (written after the groups, before the names): as it is.
  const unnamedLines: string[] = [];
  const fromUnnamed = await train(config('unnamed', 2), unnamed, (l) => unnamedLines.push(l));
  assert.ok(!unnamedLines.some((l) => l.includes('layout from before')), unnamedLines.join('\n'));
  const fromNew = await train(config('split', 2), saved);
  assert.deepEqual([...fromLegacy.keys()], [...straight.keys()]);
  for (const [key, values] of straight) {
    assert.deepEqual(fromNew.get(key), values, `${key}: the new checkpoint's resume differs from the straight run`);
    assert.deepEqual(
      fromLegacy.get(key),
      values,
      `${key}: the legacy checkpoint's resume differs from the straight run`,
    );
    assert.deepEqual(
      fromUnnamed.get(key),
      values,
      `${key}: the unnamed checkpoint's resume differs from the straight run`,
    );
  }
});

test('remapOptimizerState: entries follow their parameter to its new index; other parameters are refused', () => {
  const a = tensor([1, 2]);
  const b = tensor([3]);
  const dict: OptimizerStateDict = {
    meta: {
      kind: 'adamw',
      lr: 0.1,
      groups: [{ lrMult: 1, weightDecay: 0.1, params: [0, 1] }],
      counters: { 0: { step: 3 }, 1: { step: 5 } },
    },
    tensors: { 'state.0.exp_avg': a, 'state.1.exp_avg': b },
  };
  const groups = [
    { lrMult: 1, weightDecay: 0, params: [0] },
    { lrMult: 0.5, weightDecay: 0.1, params: [1] },
  ];
  const r = remapOptimizerState(dict, ['x', 'y'], ['y', 'x'], groups);
  assert.equal(r.tensors['state.1.exp_avg'], a);
  assert.equal(r.tensors['state.0.exp_avg'], b);
  assert.deepEqual(r.meta.counters, { 0: { step: 5 }, 1: { step: 3 } });
  assert.deepEqual(r.meta.groups, groups);
  assert.equal(r.meta.lr, 0.1);
  assert.throws(
    () => remapOptimizerState(dict, ['x', 'y'], ['x', 'z'], groups),
    /the parameters differ \(saved only: y; here only: z\)/,
  );
  assert.throws(() => remapOptimizerState(dict, ['x'], ['x'], groups), /2 parameters in its groups, 1 names given/);
  a.dispose();
  b.dispose();
});
