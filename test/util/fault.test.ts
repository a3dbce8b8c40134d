// The fault injector (src/util/fault.ts): the NORMSOFTMAX_FAULT syntax, the Nth arrival, an injected
// ENOSPC shaped as Node's fs raises it, and a kill that is a real SIGKILL (nothing after the point runs).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { FAULT_EXIT_CODE, FAULT_POINTS, faultPoint, parseFault, withoutFaults } from '../../src/util/fault.js';

const REPO = join(import.meta.dirname, '..', '..');
afterEach(() => {
  delete process.env.NORMSOFTMAX_FAULT;
});

test('NORMSOFTMAX_FAULT syntax: POINT[@N][=kill|enospc]; unknown points and actions are refused', () => {
  assert.deepEqual(parseFault('index-build:mid-append'), { point: 'index-build:mid-append', nth: 1, action: 'kill' });
  assert.deepEqual(parseFault('train:mid-metrics@4=enospc'), { point: 'train:mid-metrics', nth: 4, action: 'enospc' });
  assert.deepEqual(parseFault('index-build:before-manifest=kill'), {
    point: 'index-build:before-manifest',
    nth: 1,
    action: 'kill',
  });
  for (const bad of ['index-build:nowhere', 'index-build:mid-append=explode', 'index-build:mid-append@0', 'x'])
    assert.throws(() => parseFault(bad), /NORMSOFTMAX_FAULT: /, bad);
  assert.equal(new Set(FAULT_POINTS).size, FAULT_POINTS.length);
});

test('unset, a point does nothing; =enospc throws ENOSPC at the Nth arrival only', () => {
  faultPoint('index-build:write-data');
  process.env.NORMSOFTMAX_FAULT = 'index-build:write-data@3=enospc';
  faultPoint('index-build:write-data');
  faultPoint('index-build:write-manifest'); // another point does not count
  faultPoint('index-build:write-data');
  assert.throws(
    () => faultPoint('index-build:write-data'),
    (e: NodeJS.ErrnoException) =>
      e.code === 'ENOSPC' && e.syscall === 'write' && /injected at index-build:write-data/.test(e.message),
  );
  faultPoint('index-build:write-data'); // the 4th arrival passes
});

test('=kill SIGKILLs the process at the point: the line after it never runs', () => {
  const code =
    "import { faultPoint } from './src/util/fault.ts'; faultPoint('index-build:after-append'); console.log('first'); faultPoint('index-build:after-append'); console.log('second');";
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, NORMSOFTMAX_FAULT: 'index-build:after-append@2' },
  });
  assert.equal(r.signal, 'SIGKILL', r.stderr);
  assert.equal(r.stdout, 'first\n');
});

test('several points at once, each with its own count; in a worker thread a kill ends the thread alone', async () => {
  process.env.NORMSOFTMAX_FAULT = 'index-build:write-data@2=enospc, train:mid-metrics=enospc';
  faultPoint('index-build:write-data');
  assert.throws(() => faultPoint('train:mid-metrics'), { code: 'ENOSPC' });
  assert.throws(() => faultPoint('index-build:write-data'), { code: 'ENOSPC' });
  assert.throws(() => parseFault(' search-worker:nowhere'), /NORMSOFTMAX_FAULT: /);
  const { Worker } = await import('node:worker_threads');
  const fault = pathToFileURL(join(REPO, 'src/util/fault.ts')).href;
  const worker = new Worker(
    `import { register } from 'tsx/esm/api'; register(); const { faultPoint } = await import(${JSON.stringify(fault)}); faultPoint('search-worker:search'); process.exit(0);`,
    { eval: true, env: { ...process.env, NORMSOFTMAX_FAULT: 'search-worker:search' } },
  );
  const exit = await new Promise<number>((r) => worker.on('exit', r));
  assert.equal(exit, FAULT_EXIT_CODE, 'the thread ended with the fault code; this process lives on');
  assert.equal(withoutFaults({ A: '1', NORMSOFTMAX_FAULT: 'x' }).NORMSOFTMAX_FAULT, undefined);
});
