// src/tensor/native-names.ts must list exactly what the built addon exports
// (regenerate with `node scripts/gen-native-names.mjs` after adding a native function), and
// src/tensor/native-api.ts must give each of them a signature (and nothing else one).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import ts from 'typescript';
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

/** The member names of `interface name` in a TypeScript file. */
function interfaceMembers(path: string, name: string): string[] {
  const file = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true);
  const decl = file.statements.find(
    (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name,
  );
  assert.ok(decl, `interface ${name} not found in ${path}`);
  return decl.members.map((m) => (m.name && ts.isIdentifier(m.name) ? m.name.text : m.getText(file)));
}

test('every addon export has a TypeScript signature in NativeAddon, and every signature an export', () => {
  const typed = interfaceMembers('src/tensor/native-api.ts', 'NativeAddon');
  const exported = Object.keys(native);
  assert.deepEqual(
    {
      untyped: exported.filter((n) => !typed.includes(n)).sort(),
      unexported: typed.filter((n) => !exported.includes(n)).sort(),
    },
    { untyped: [], unexported: [] },
  );
  assert.equal(new Set(typed).size, typed.length, 'one signature per function (overloads: use a union)');
});

test('the member parser reads method and property signatures', () => {
  const members = interfaceMembers('src/tensor/native-api.ts', 'NativeAllocatorPolicy');
  assert.deepEqual(members, ['active', 'note', 'settings']);
});
