// src/tensor/native-names.ts must list exactly what the built addon exports
// (regenerate with `node scripts/gen-native-names.mjs` after adding a native function).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { native } from '../../src/tensor/native.js';
import { NATIVE_NAMES } from '../../src/tensor/native-names.js';

test('NATIVE_NAMES equals the addon exports', () => {
  const exported = Object.keys(native).sort();
  const listed: string[] = [...NATIVE_NAMES].sort();
  const missing = exported.filter((n) => !listed.includes(n));
  const stale = listed.filter((n) => !exported.includes(n));
  assert.deepEqual(
    { missing, stale },
    { missing: [], stale: [] },
    'run `node scripts/gen-native-names.mjs` (missing: exported but not listed; stale: listed but not exported)',
  );
  assert.equal(new Set(NATIVE_NAMES).size, NATIVE_NAMES.length, 'no duplicates');
  for (const name of exported) assert.equal(typeof native[name as keyof typeof native], 'function', name);
});
