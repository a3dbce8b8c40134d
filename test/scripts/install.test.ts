// scripts/install.sh under CI: a system package the tests need that cannot be installed stops it (exit 1, one
// line naming the package) before npm ci; outside CI the optional ones (Gloo, libjpeg) are a warning. Run
// against fakes: a non-root `id` (so apt-get is never run), `node` answering the libtorch and Gloo probes,
// `npm` recording its call, and a compiler, Python and Chromium that are there or not as each case says.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { REPO_ROOT } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-install-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const bin = join(dir, 'bin');
mkdirSync(bin);
const log = join(dir, 'npm.log');

function script(path: string, body: string): string {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}
script(join(bin, 'id'), 'echo 1000');
script(
  join(bin, 'node'),
  `case "$*" in
  *"find-libtorch.mjs --gloo"*) if [ -n "$FAKE_GLOO_MISSING" ]; then echo "the Gloo headers are missing (fake)"; exit 1; fi; echo /usr/include;;
  *find-libtorch.mjs*) ;;
  *) echo "unexpected: node $*" >&2; exit 99;;
esac`,
);
script(join(bin, 'npm'), `echo "npm $*" >> "${log}"`);
const cxx = script(join(dir, 'fake-g++'), 'cat >/dev/null; [ -z "$FAKE_JPEG_MISSING" ]');
const python = script(join(dir, 'fake-python3'), '[ -z "$FAKE_REFERENCE_MISSING" ]');
const chromium = script(join(dir, 'fake-chromium'), 'exit 0');

interface Case {
  ci: boolean;
  args?: string[];
  missing?: ('gloo' | 'jpeg' | 'reference' | 'chromium')[];
}

function install(c: Case) {
  rmSync(log, { force: true });
  const missing = new Set(c.missing ?? []);
  const r = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'install.sh'), ...(c.args ?? [])], {
    encoding: 'utf8',
    env: {
      PATH: `${bin}:${process.env.PATH}`,
      CI: c.ci ? 'true' : '',
      CXX: cxx,
      NORMSOFTMAX_PYTHON: python,
      CHROMIUM_PATH: missing.has('chromium') ? join(dir, 'no-chromium') : chromium,
      FAKE_GLOO_MISSING: missing.has('gloo') ? '1' : '',
      FAKE_JPEG_MISSING: missing.has('jpeg') ? '1' : '',
      FAKE_REFERENCE_MISSING: missing.has('reference') ? '1' : '',
    },
  });
  const npm = existsSync(log) ? readFileSync(log, 'utf8').trim() : '';
  return { code: r.status, stderr: r.stderr.trim(), stdout: r.stdout, npm };
}

test('under CI with everything there: npm ci, nothing said', () => {
  assert.deepEqual(install({ ci: true }), { code: 0, stderr: '', stdout: '', npm: 'npm ci --no-fund --no-audit' });
});

test('under CI, each missing system package is exit 1 with one line naming it, and no npm ci', () => {
  const expected = {
    gloo: '[install] CI: could not install libgloo-dev, which the tests need (distributed training will be unavailable: the Gloo headers are missing (fake))',
    jpeg: '[install] CI: could not install libjpeg62-turbo-dev, which the tests need (no jpeglib.h: JPEGs decode through sharp (slower))',
    reference: `[install] CI: could not install python3-torch python3-torchvision python3-faiss python3-sklearn python3-pil, which the tests need (${python} cannot import torch, torchvision, faiss, sklearn and PIL (the parity tests))`,
    chromium: `[install] CI: could not install chromium, which the tests need (no ${join(dir, 'no-chromium')} (the search page's end-to-end tests))`,
  } as const;
  for (const [what, line] of Object.entries(expected)) {
    const r = install({ ci: true, missing: [what as keyof typeof expected] });
    assert.equal(r.code, 1, `${what}: ${r.stderr}`);
    assert.equal(r.stderr, line, what);
    assert.equal(r.npm, '', `${what}: npm ci ran`);
  }
});

test('outside CI, Gloo and libjpeg missing are warnings; the reference and Chromium are not looked for', () => {
  const r = install({ ci: false, missing: ['gloo', 'jpeg', 'reference', 'chromium'] });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stderr.split('\n'), [
    '[install] libgloo-dev not installed: distributed training will be unavailable: the Gloo headers are missing (fake)',
    '[install] libjpeg62-turbo-dev not installed: no jpeglib.h: JPEGs decode through sharp (slower)',
  ]);
  assert.equal(r.npm, 'npm ci --no-fund --no-audit');
});

test('outside CI, --with-reference that cannot install Chromium is exit 1 naming it', () => {
  const r = install({ ci: false, args: ['--with-reference'], missing: ['chromium'] });
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    `[install] could not install chromium (no ${join(dir, 'no-chromium')} (the search page's end-to-end tests))`,
  );
  assert.equal(r.npm, '');
});
