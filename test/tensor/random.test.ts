// Seeded randomness: PyTorch's numbers for the same seed, reproducibility, generator state.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Generator,
  manualSeed,
  multinomial,
  normal,
  rand,
  randint,
  randn,
  randperm,
  scope,
  tensor,
  uniform,
} from '../../src/tensor/index.js';
import { loadGoldenJson } from '../helpers/golden.js';
import { assertClose } from './close.js';

const golden = loadGoldenJson('engine_random.json').tensors;
const exact = { rtol: 0, atol: 0 };

describe("PyTorch's numbers for the same seed (tools/golden/engine.py)", () => {
  test('torch.manual_seed(0); torch.rand(5)', () => {
    scope(() => {
      manualSeed(0);
      assertClose(rand([5]), golden['manual_seed0.rand5']!, exact, 'rand');
    });
  });
  test('torch.manual_seed(0); torch.randn(5)', () => {
    scope(() => {
      manualSeed(0);
      assertClose(randn([5]), golden['manual_seed0.randn5']!, { rtol: 1e-6, atol: 1e-7 }, 'randn');
    });
  });
  test('torch.manual_seed(123); torch.rand(2, 3, dtype=torch.float64)', () => {
    scope(() => {
      manualSeed(123);
      const r = rand([2, 3], { dtype: 'float64' });
      assert.equal(r.dtype, 'float64');
      assertClose(r, golden['manual_seed123.rand2x3_f64']!, exact, 'rand f64');
    });
  });
  test('torch.Generator().manual_seed(42); torch.rand(4, generator=g)', () => {
    scope(() => assertClose(rand([4], { generator: new Generator(42) }), golden['generator42.rand4']!, exact, 'gen'));
  });
});

describe('reproducibility', () => {
  test('manualSeed replays every sampler', () => {
    scope(() => {
      const draw = () => [
        rand([4]),
        randn([4]),
        uniform([4], -2, 3),
        normal([4], 5, 0.1),
        randint(0, 100, [4]),
        randperm(10),
      ];
      manualSeed(11);
      const first = draw();
      manualSeed(11);
      const second = draw();
      for (const [i, t] of first.entries()) assert.deepEqual(second[i]!.toArray(), t.toArray(), `sampler ${i}`);
      manualSeed(12);
      assert.notDeepEqual(rand([4]).toArray(), first[0]!.toArray());
    });
  });
  test('a Generator with the global seed gives the same stream, without touching the global one', () => {
    scope(() => {
      manualSeed(5);
      const global = rand([6]).toArray();
      manualSeed(99);
      const own = rand([6], { generator: new Generator(5) }).toArray();
      const globalAfter = rand([6]).toArray();
      manualSeed(99);
      assert.deepEqual(own, global);
      assert.deepEqual(rand([6]).toArray(), globalAfter, 'the generator did not advance the global stream');
    });
  });
  test('Generator.seed() restarts its stream', () => {
    scope(() => {
      const g = new Generator(3);
      const a = randn([5], { generator: g }).toArray();
      g.seed(3);
      assert.deepEqual(randn([5], { generator: g }).toArray(), a);
    });
  });
  test('negative or fractional seeds are rejected', () => {
    assert.throws(() => manualSeed(-1), /non-negative integer/);
    assert.throws(() => new Generator(1.5), /non-negative integer/);
  });
});

describe('generator state', () => {
  test('save and restore gives the identical sequence', () => {
    scope(() => {
      const g = new Generator(2024);
      rand([3], { generator: g }); // advance somewhere into the stream
      const state = g.getState();
      assert.ok(state instanceof Uint8Array && state.length > 0);
      const next = [rand([7], { generator: g }), randn([7], { generator: g }), randperm(20, { generator: g })];
      const later = rand([7], { generator: g }).toArray();
      assert.notDeepEqual(later, next[0]!.toArray());
      g.setState(state);
      const replay = [rand([7], { generator: g }), randn([7], { generator: g }), randperm(20, { generator: g })];
      for (const [i, t] of next.entries()) assert.deepEqual(replay[i]!.toArray(), t.toArray(), `draw ${i}`);
    });
  });
  test('restoring into another generator continues its stream', () => {
    scope(() => {
      const a = new Generator(8);
      randn([2], { generator: a });
      const b = new Generator(0).setState(a.getState());
      assert.deepEqual(randn([5], { generator: b }).toArray(), randn([5], { generator: a }).toArray());
    });
  });
  test('the default generator state round-trips the global stream', () => {
    scope(() => {
      manualSeed(77);
      const state = Generator.default().getState();
      const a = rand([5]).toArray();
      Generator.default().setState(state);
      assert.deepEqual(rand([5]).toArray(), a);
    });
  });
});

describe('distributions', () => {
  test('randperm(n) is a permutation of 0..n-1', () => {
    scope(() => {
      for (const n of [1, 2, 17, 1000]) {
        const p = randperm(n, { generator: new Generator(n) });
        assert.equal(p.dtype, 'int64');
        assert.deepEqual(
          p.toArray().sort((x, y) => x - y),
          Array.from({ length: n }, (_, i) => i),
        );
      }
      assert.deepEqual(randperm(0).shape, [0]);
    });
  });
  test('rand, uniform and randint stay in their ranges', () => {
    scope(() => {
      const g = new Generator(1);
      const r = rand([10000], { generator: g }).toArray();
      assert.ok(Math.min(...r) >= 0 && Math.max(...r) < 1);
      const u = uniform([10000], -3, -1, { generator: g }).toArray();
      assert.ok(Math.min(...u) >= -3 && Math.max(...u) < -1);
      const i = randint(5, 9, [10000], { generator: g });
      assert.equal(i.dtype, 'int64');
      assert.deepEqual([...new Set(i.toArray())].sort(), [5, 6, 7, 8]);
    });
  });
  test('normal has the requested mean and standard deviation', () => {
    scope(() => {
      const x = normal([100000], 3, 2, { generator: new Generator(4), dtype: 'float64' });
      assert.ok(Math.abs(x.mean().item() - 3) < 0.03, `mean ${x.mean().item()}`);
      assert.ok(Math.abs(x.std().item() - 2) < 0.03, `std ${x.std().item()}`);
    });
  });
  test('multinomial without replacement draws distinct indices and never a zero weight', () => {
    scope(() => {
      const probs = tensor([0.1, 0, 0.4, 0.2, 0, 0.3]);
      for (let seed = 0; seed < 20; seed++) {
        const draw = multinomial(probs, 4, false, new Generator(seed)).toArray();
        assert.equal(new Set(draw).size, 4);
        for (const i of draw) assert.ok(i !== 1 && i !== 4, `drew zero-weight index ${i}`);
      }
    });
  });
});
