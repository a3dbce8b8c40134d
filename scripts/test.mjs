// Runs every test/**/*.test.ts with node:test (through tsx). Extra arguments filter by path substring.
// dist/ is brought up to date first (an incremental build): the tests run the command as users do, compiled.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'fixtures' ? [] : find(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const filters = process.argv.slice(2);
const files = find('test')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
const build = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const reporters = ['--test-reporter=spec', '--test-reporter-destination=stdout'];
// With the whole suite, also the slowest files at the end (scripts/slowest-files.mjs).
if (filters.length === 0)
  reporters.push('--test-reporter=./scripts/slowest-files.mjs', '--test-reporter-destination=stdout');
// Two files at a time at least: node:test's default (cores - 1) runs one at a time on a 2-core machine,
// where much of a file's time is waiting (children, servers, Chromium) or starting (tsx, libtorch):
// 11.4 min instead of 23 for the suite under a load of 4-5 (2 cores). NORMSOFTMAX_TEST_CONCURRENCY overrides.
const concurrency = process.env.NORMSOFTMAX_TEST_CONCURRENCY ?? String(Math.max(2, availableParallelism()));
// One libtorch thread per test process (and per CLI child, test/helpers/cli.ts) unless NORMSOFTMAX_THREADS
// says otherwise: with two files at a time on two cores, each file's OpenMP workers spinning on the other's
// core made small ops slower than one thread (a k-means run 1.25 s against 0.43 s) and the suite took
// 12 min of wall time instead of 8. Tests of the thread count and of parallel kernels set their own.
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...reporters, ...files],
  {
    stdio: 'inherit',
    env: { ...process.env, NORMSOFTMAX_TEST: '1', NORMSOFTMAX_THREADS: process.env.NORMSOFTMAX_THREADS ?? '1' },
  },
);
process.exit(result.status ?? 1);
