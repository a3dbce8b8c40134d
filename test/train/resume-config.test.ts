// --resume and the config (src/train/resume-check.ts): every key of the one schema is compared, so a new
// key is checked without anyone listing it. For each key, another valid value in the run is either refused
// in one line naming the flag and both values, or accepted with a line that says so and why; the keys that
// may change are exactly those whose schema entry says why. A checkpoint from before a key had its default.
// End to end: a run resumed with --freeze-backbone is refused, one with another
// --eval-every goes on and says so.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { TrainConfig } from '../../src/train/config.js';
import { type Field, fieldOf, flagOf, TRAIN_KEYS, type TrainKey } from '../../src/train/config-schema.js';
import { checkResumable, flagValue, resumeChanges } from '../../src/train/resume-check.js';
import { runSession } from '../../src/train/session.js';
import { InputError } from '../../src/util/errors.js';
import { syntheticDataset } from '../helpers/synthetic-dataset.js';
import { tinyTrainConfig } from '../helpers/tiny-train-config.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-resume-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const PATH = 'runs/x/last.safetensors';

/** A valid value of the field other than `value`. */
function another(f: Field, value: unknown): unknown {
  switch (f.type) {
    case 'number':
      return f.atMost !== undefined ? (value === f.atMost ? f.atMost / 2 : f.atMost) : (value as number) + 0.5;
    case 'integer':
      return (value as number) + 1;
    case 'choice':
      return f.choices.find((c) => c !== value);
    case 'text':
      return f.pattern ? (value === 'cpu' ? 'cuda:1' : 'cpu') : `${value}-other`;
    case 'optional-text':
      return value === null ? 'weights.pth' : null;
    case 'boolean':
      return !value;
    case 'integer-list':
      return [...(value as number[]), 100];
  }
}

/** The keys whose change --resume accepts (their schema entries say why): training is the same recipe. */
const MAY_CHANGE: TrainKey[] = [
  'root',
  'pretrained',
  'numSteps',
  'device',
  'out',
  'evalEvery',
  'k',
  'nmi',
  'nmiMethod',
  'workers',
  'skipBadImages',
  'precision',
  'threads',
];

test('every schema key: another value is refused naming the flag and both values, or accepted and said so', () => {
  const saved = tinyTrainConfig({ out: join(dir, 'a') });
  const refused: TrainKey[] = [];
  const accepted: TrainKey[] = [];
  for (const key of TRAIN_KEYS) {
    const other = another(fieldOf(key), saved[key]);
    assert.notEqual(JSON.stringify(other), JSON.stringify(saved[key]), `${key}: no other value`);
    const now = { ...saved, [key]: other } as TrainConfig;
    const r = resumeChanges(saved, now, PATH);
    const flag = flagOf(key);
    if (r.refused !== null) {
      assert.deepEqual(r.accepted, []);
      assert.equal(
        r.refused,
        `--resume ${PATH}: ${flag} is ${flagValue(saved[key])} in the checkpoint, ${flagValue(other)} in this run; ` +
          'a resumed run keeps it (start a new run in another --out to change it)',
      );
      assert.throws(
        () => checkResumable(saved, now, PATH),
        (e: Error) => e instanceof InputError && e.message === r.refused,
      );
      refused.push(key);
    } else {
      assert.equal(r.accepted.length, 1, key);
      assert.ok(
        r.accepted[0]?.startsWith(
          `--resume: ${flag} ${flagValue(other)} (the checkpoint has ${flagValue(saved[key])}): accepted, `,
        ),
        r.accepted[0],
      );
      assert.ok(!r.accepted[0]?.includes('\n'));
      accepted.push(key);
    }
  }
  // Every key was decided one way or the other, and the accepted ones are those the schema gives a reason.
  assert.equal(refused.length + accepted.length, TRAIN_KEYS.length);
  assert.deepEqual(accepted, MAY_CHANGE);
  assert.deepEqual(
    accepted,
    TRAIN_KEYS.filter((k) => fieldOf(k).onResume !== undefined),
  );
  // The keys of the ViT recipe and head-only training are among those a resumed run keeps.
  for (const key of [
    'freezeBackbone',
    'layerDecay',
    'lrWarmupEpochs',
    'schedule',
    'optimizer',
    'weightDecay',
  ] as const) {
    assert.ok(refused.includes(key), key);
  }
  // Nothing changed: nothing to say.
  assert.deepEqual(resumeChanges(saved, { ...saved }, PATH), { accepted: [], refused: null });
});

test('more steps: accepted under the step schedule, refused under the cosine (it reshapes every epoch)', () => {
  const step = tinyTrainConfig({ out: join(dir, 'a'), numSteps: 2 });
  assert.match(
    checkResumable(step, { ...step, numSteps: 3 }, PATH)[0] ?? '',
    /^--resume: --num-steps 3 \(the checkpoint has 2\): accepted, the step schedule's lr of an epoch does not depend on it/,
  );
  const cosine = tinyTrainConfig({ out: join(dir, 'a'), numSteps: 2, schedule: 'cosine' });
  assert.throws(
    () => checkResumable(cosine, { ...cosine, numSteps: 3 }, PATH),
    /^InputError: --resume runs\/x\/last\.safetensors: --num-steps is 2 in the checkpoint, 3 in this run; /,
  );
});

test('--pretrained: accepted (the checkpoint holds the weights), but not with --freeze-backbone (its cache key)', () => {
  const saved = tinyTrainConfig({ out: join(dir, 'a'), pretrained: 'a.pth' });
  assert.match(
    checkResumable(saved, { ...saved, pretrained: 'b.pth' }, PATH)[0] ?? '',
    /^--resume: --pretrained b\.pth \(the checkpoint has a\.pth\): accepted, the checkpoint's weights replace them/,
  );
  const frozen = { ...saved, freezeBackbone: true };
  assert.throws(
    () => checkResumable(frozen, { ...frozen, pretrained: 'b.pth' }, PATH),
    /--pretrained is a\.pth in the checkpoint, b\.pth in this run; a resumed run keeps it/,
  );
});

test('a checkpoint from before a key: its default then, so the default resumes and another value is refused', () => {
  const now = tinyTrainConfig({ out: join(dir, 'a') });
  const old: Partial<TrainConfig> = { ...now };
  for (const key of [
    'freezeBackbone',
    'layerDecay',
    'schedule',
    'lrWarmupEpochs',
    'folds',
    'fold',
    'layerNorm',
  ] as const) {
    delete old[key];
  }
  assert.deepEqual(resumeChanges(old, now, PATH), { accepted: [], refused: null });
  assert.equal(
    resumeChanges(old, { ...now, freezeBackbone: true }, PATH).refused,
    `--resume ${PATH}: --freeze-backbone is false in the checkpoint, true in this run; a resumed run keeps it (start a new run in another --out to change it)`,
  );
  assert.match(
    resumeChanges(old, { ...now, schedule: 'cosine' }, PATH).refused ?? '',
    /--schedule is step in the checkpoint, cosine in this run/,
  );
});

test('end to end: --freeze-backbone refused on resume, another --eval-every accepted and said', async () => {
  const out = join(dir, 'run');
  const c = tinyTrainConfig({ out, warmupEpochs: 0, numSteps: 1, k: [1], seed: 1 });
  const first = await runSession(c, { dataset: syntheticDataset(), silent: true, log: () => {} });
  first.model.dispose();
  const resume = join(out, 'last.safetensors');
  await assert.rejects(
    runSession({ ...c, freezeBackbone: true }, { dataset: syntheticDataset(), silent: true, resume }),
    (e: Error) =>
      e instanceof InputError &&
      e.message ===
        `--resume ${resume}: --freeze-backbone is false in the checkpoint, true in this run; a resumed run keeps it (start a new run in another --out to change it)`,
  );
  const lines: string[] = [];
  const again = await runSession(
    { ...c, numSteps: 2, evalEvery: 7 },
    { dataset: syntheticDataset(), resume, log: (l) => lines.push(l) },
  );
  again.model.dispose();
  assert.equal(again.state.epochsDone, 2);
  assert.ok(
    lines.includes(
      "--resume: --num-steps 2 (the checkpoint has 1): accepted, the step schedule's lr of an epoch does not depend on it: the run ends at another epoch",
    ),
    lines.join('\n'),
  );
  assert.ok(
    lines.includes(
      '--resume: --eval-every 7 (the checkpoint has 100): accepted, what is evaluated, not what is trained',
    ),
    lines.join('\n'),
  );
});
