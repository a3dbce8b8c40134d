// test/helpers/skip.ts, the one way a test skips for the machine: its two kinds under a fake CI environment,
// the reference-Python helper built on it in a child with CI set, and an audit that every skip in test/
// goes through it (a bare reason string would skip silently under CI).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { REPO_ROOT } from './cli.js';
import { skipFor, underCi } from './skip.js';

describe('skipFor', () => {
  test('nothing missing: run the test, under CI too', () => {
    for (const missing of [false, null, undefined, ''] as const) {
      assert.equal(skipFor('cannot-apply', missing, { CI: '1' }), false);
      assert.equal(skipFor('must-install', missing, { CI: '1' }), false);
    }
  });

  test("'cannot-apply' skips with its reason, with or without CI", () => {
    for (const env of [{}, { CI: 'true' }]) {
      assert.equal(
        skipFor('cannot-apply', 'CUDA is not available here', env),
        'cannot apply on this machine: CUDA is not available here',
      );
    }
  });

  test("'must-install' skips outside CI and throws under CI, naming what is missing", () => {
    const missing = 'no /usr/include/jpeglib.h (Debian: apt-get install libjpeg62-turbo-dev)';
    assert.equal(skipFor('must-install', missing, {}), `not installed here (CI installs it): ${missing}`);
    assert.equal(skipFor('must-install', missing, { CI: '' }), `not installed here (CI installs it): ${missing}`);
    for (const CI of ['1', 'true']) {
      assert.throws(
        () => skipFor('must-install', missing, { CI }),
        (e: unknown) =>
          e instanceof Error &&
          e.message ===
            `CI is set, but ${missing}; CI must install it (bash scripts/install.sh), so this test may not skip`,
      );
    }
  });

  test('CI is any non-empty value, as scripts/install.sh reads it', () => {
    assert.equal(underCi({}), false);
    assert.equal(underCi({ CI: '' }), false);
    assert.equal(underCi({ CI: 'true' }), true);
    assert.equal(underCi({ CI: '0' }), true);
  });
});

test('referenceSkip without the reference Python: a skip outside CI, an Error that fails the file under CI', () => {
  const script = `import { referenceSkip } from './test/helpers/reference-python.ts';
console.log(referenceSkip(['json'], 'the probe'));`;
  const run = (ci: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, CI: ci, NORMSOFTMAX_PYTHON: '/nonexistent/python3' },
    });
  const local = run('');
  assert.equal(local.status, 0, local.stderr);
  assert.equal(
    local.stdout.trim(),
    'not installed here (CI installs it): /nonexistent/python3 lacks json (bash scripts/install.sh --with-reference installs it), so the probe cannot run',
  );
  const ci = run('1');
  assert.notEqual(ci.status, 0);
  assert.match(ci.stderr, /CI is set, but \/nonexistent\/python3 lacks json .*CI must install it/);
});

// skip.ts and the helpers built on it: a file that gives node:test a skip option imports one of them.
const SKIP_HELPERS = ['helpers/skip.ts', 'helpers/reference-python.ts', 'helpers/chromium.ts', 'nn/fixtures.ts'].map(
  (f) => join(REPO_ROOT, 'test', f),
);
const HELPER_CALL = /^(cannotApplyHere|needsInstalled|skipFor|referenceSkip)\(/;

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'fixtures' ? [] : testFiles(path);
    return /\.(ts|mts|mjs)$/.test(name) ? [path] : [];
  });
}

/** What is wrong with the skips of one file's source (its path from the repository root), as messages. */
function skipProblems(file: string, source: string): string[] {
  const problems: string[] = [];
  if (/\b(test|describe|it|suite)\.skip\(|\bt\.skip\(/.test(source)) {
    problems.push(`${file}: an unconditional skip (test.skip / t.skip); give a reason through test/helpers/skip.ts`);
  }
  const options = [...source.matchAll(/\{\s*skip\s*[,}]|\bskip:\s*([^\n]*)/g)];
  if (options.length === 0) return problems;
  const imports = [...source.matchAll(/from '(\.[^']+)\.js'/g)].map((m) =>
    resolve(REPO_ROOT, dirname(file), `${m[1]}.ts`),
  );
  if (!imports.some((path) => SKIP_HELPERS.includes(path))) {
    problems.push(`${file}: gives node:test a skip option without test/helpers/skip.ts (or a helper built on it)`);
  }
  for (const m of options) {
    const value = (m[1] ?? '').trim();
    if (value === '' || HELPER_CALL.test(value)) continue;
    if (/^['"`]|(\?|&&|\|\||:)\s*['"`]/.test(value)) {
      problems.push(`${file}: a bare skip reason (${value.slice(0, 60)}); use cannotApplyHere or needsInstalled`);
    }
  }
  return problems;
}

test('every skip in test/ goes through test/helpers/skip.ts: no bare reason, no unconditional skip', () => {
  const problems = testFiles(join(REPO_ROOT, 'test'))
    .filter((path) => path !== import.meta.filename)
    .flatMap((path) => skipProblems(relative(REPO_ROOT, path), readFileSync(path, 'utf8')));
  assert.deepEqual(problems, []);
  // The audit itself catches what it is for.
  const helper = "import { cannotApplyHere } from '../helpers/skip.js';\n";
  assert.equal(skipProblems('test/a/a.ts', "test('x', { skip: glibc ? false : 'not glibc' }, () => {});").length, 2);
  assert.equal(skipProblems('test/a/a.ts', `${helper}test('x', { skip: 'no' }, f);`).length, 1);
  assert.equal(skipProblems('test/a/a.ts', `${helper}test('x', { skip: uid === 0 && 'root' }, f);`).length, 1);
  assert.equal(skipProblems('test/a/a.ts', `${helper}test.skip('x', f);`).length, 1);
  assert.deepEqual(skipProblems('test/a/a.ts', `${helper}test('x', { skip: cannotApplyHere(!a && 'b') }, f);`), []);
  assert.equal(
    skipProblems('test/a/a.ts', `import { x } from '../helpers/cli.js';\ntest('x', { skip }, f);`).length,
    1,
  );
});
