// Tensor handles: what the addon accepts as a tensor, and the GC backstop for tensors no scope owns.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ones } from '../../src/tensor/index.js';
import { native } from '../../src/tensor/native.js';

// The addon without its TypeScript signatures, to pass what the types forbid.
const untyped = native as unknown as Record<'exp' | 'add' | 'cat', (...args: unknown[]) => unknown>;

function runChild<T>(script: string, nodeFlags: string[]): T {
  const path = join(import.meta.dirname, 'child', script);
  const r = spawnSync(process.execPath, [...nodeFlags, '--import', 'tsx', path], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
}

describe('tensor handles', () => {
  test('a number or a forged handle where a tensor is expected is a clear error, not a crash', () => {
    assert.throws(() => untyped.exp(5), /argument 0: expected a tensor handle/);
    assert.throws(() => untyped.exp({}), /argument 0: expected a tensor handle/);
    assert.throws(() => untyped.add(ones([2]).handle, ones([2]).handle, 'x'), /expected a number/);
    assert.throws(() => untyped.exp(0x7fff_0000_0000_1234n), /tensor used after dispose\(\)/);
    assert.throws(() => untyped.cat([ones([1]).handle, 3], 0), /argument 0: expected an array of tensors/);
  });

  test('a stale handle (its slot reused by a newer tensor) is refused and disposing it again is a no-op', () => {
    const a = ones([3]);
    const stale = a.handle;
    a.dispose();
    const b = ones([3]).mul(2); // likely reuses a's slot, with a new generation
    assert.throws(() => native.exp(stale), /tensor used after dispose\(\)/);
    native.dispose(stale);
    assert.deepEqual(b.toArray(), [2, 2, 2]);
    assert.equal(native.isDisposed(stale), true);
    assert.equal(native.isDisposed(b.handle), false);
  });

  test('V8 learns the bytes of unscoped tensors, so it collects dropped ones without being asked', () => {
    const out = runChild<{ count: number; peak: number }>('gc-pressure.ts', []);
    // Unreported, nothing would trigger a collection: all 200 x 2 MiB would stay alive.
    assert.ok(out.peak < out.count / 2, `peak ${out.peak} live tensors of ${out.count} dropped`);
  });

  test('the GC frees kept and escaped tensors, and a late finalizer never frees a reused slot', () => {
    const out = runChild<{
      count: number;
      escaped: number;
      afterEscapedCollected: number;
      survivorsLive: number;
      survivorSum: number;
    }>('gc-backstop.ts', ['--expose-gc']);
    assert.equal(out.escaped, 3 * out.count, 'unscoped, kept and returned tensors outlive their scopes');
    assert.equal(out.afterEscapedCollected, 0, 'and the GC frees them once dropped');
    assert.equal(out.survivorsLive, out.count, 'no finalizer of a disposed tensor freed a newer one');
    // sum over i of (i + i + 0.5)
    assert.equal(out.survivorSum, out.count * (out.count - 1) + out.count * 0.5);
  });
});
