// Shared benchmark helpers: medians, flags, and the JSON-lines Python worker protocol.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { BenchArgsError, parseBenchArgs } from '../../bench/common/args.js';
import { PythonWorker } from '../../bench/common/python.js';
import { inTurn, median, round, timePerIteration } from '../../bench/common/timing.js';
import { REFERENCE_PYTHON, referenceSkip } from '../helpers/reference-python.js';

describe('timing', () => {
  test('median of odd and even counts, unsorted input left untouched', () => {
    const values = [5, 1, 4];
    assert.equal(median(values), 4);
    assert.deepEqual(values, [5, 1, 4]);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.throws(() => median([]), RangeError);
  });
  test('round keeps the requested digits; timePerIteration runs the body once with the count', () => {
    assert.equal(round(1.23456), 1.235);
    assert.equal(round(1.25, 1), 1.3);
    const seen: number[] = [];
    // A body that takes at least 7 ms for 7 iterations: at least 1 ms (1e6 ns) per iteration, and the
    // whole call took longer than what it reports per iteration times the count.
    const before = process.hrtime.bigint();
    const ns = timePerIteration((n) => {
      seen.push(n);
      const until = Date.now() + n;
      while (Date.now() <= until) {}
    }, 7);
    const total = Number(process.hrtime.bigint() - before);
    assert.deepEqual(seen, [7]);
    assert.ok(ns >= 1e6, `${ns} ns per iteration`);
    assert.ok(ns * 7 <= total, `${ns} x 7 within the ${total} ns the call took`);
  });
});

describe('parseBenchArgs', () => {
  test('defaults to every core and full runs; reads --threads and --quick', () => {
    assert.deepEqual(parseBenchArgs([]), { threads: availableParallelism(), quick: false });
    assert.deepEqual(parseBenchArgs(['--threads', '3', '--quick']), { threads: 3, quick: true });
  });
  test('a bad or unknown flag is a BenchArgsError naming it', () => {
    assert.throws(() => parseBenchArgs(['--threads', '0']), /--threads: expected a positive integer, got 0/);
    assert.throws(() => parseBenchArgs(['--threads', '1.5']), BenchArgsError);
    assert.throws(() => parseBenchArgs(['--threads']), /got nothing/);
    assert.throws(() => parseBenchArgs(['--fast']), /unknown argument --fast/);
  });
});

describe('PythonWorker', { skip: referenceSkip(['json'], 'the PythonWorker test') }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-worker-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'worker.py');
  writeFileSync(
    script,
    [
      'import json, sys',
      'for line in sys.stdin:',
      '    req = json.loads(line)',
      '    if req.get("cmd") == "die":',
      '        sys.stderr.write("fatal: asked to die\\n"); sys.exit(3)',
      '    reply = {"error": "no such command"} if req.get("cmd") != "double" else {"value": 2 * req["x"]}',
      '    print(json.dumps(reply), flush=True)',
    ].join('\n'),
  );

  test('answers requests in order, reports an error reply and a dead process in one line', async () => {
    const worker = new PythonWorker(REFERENCE_PYTHON, script);
    try {
      const [a, b] = await Promise.all([
        worker.request<{ value: number }>({ cmd: 'double', x: 2 }),
        worker.request<{ value: number }>({ cmd: 'double', x: 5 }),
      ]);
      assert.deepEqual([a.value, b.value], [4, 10]);
      await assert.rejects(worker.request({ cmd: 'other' }), /^Error: reference: no such command$/);
      await assert.rejects(worker.request({ cmd: 'die' }), /reference process exited: fatal: asked to die/);
      await assert.rejects(worker.request({ cmd: 'double', x: 1 }), /reference process exited/);
    } finally {
      worker.close();
    }
  });
});

test('inTurn: ours first in even rounds, the reference first in odd ones; an async side is awaited', async () => {
  const order: string[] = [];
  for (let r = 0; r < 3; r++) {
    await inTurn(
      r,
      () => order.push(`ours${r}`),
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        order.push(`ref${r}`);
      },
    );
  }
  assert.deepEqual(order, ['ours0', 'ref0', 'ref1', 'ours1', 'ours2', 'ref2']);
});
