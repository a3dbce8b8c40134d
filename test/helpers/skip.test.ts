// test/helpers/skip.ts, the one way a test skips for the machine: its two kinds under a fake CI environment,
// and the reference-Python helper built on it in a child with CI set.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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
