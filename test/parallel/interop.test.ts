// Proof that we speak c10d: a PyTorch rank (Debian's torch.distributed with Gloo, joined by
// init_process_group("gloo", init_method="tcp://...")) and a normsoftmax rank form one process group
// and agree on an allreduce, a broadcast and a barrier, with either one hosting the TCPStore.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { distributedUnavailableReason } from '../../src/tensor/process-group.js';
import { REFERENCE_PYTHON, referenceSkip } from '../helpers/reference-python.js';
import { needsInstalled } from '../helpers/skip.js';
import { freePort, parseResult, RANK_SCRIPT, rankEnv, waitExit } from './helpers.js';

const PYTHON_RANK = join(import.meta.dirname, 'fixtures', 'python_rank.py');
const skip =
  needsInstalled(distributedUnavailableReason()) || referenceSkip(['torch.distributed'], 'the c10d interop test');

for (const pythonRank of [1, 0]) {
  test(`a PyTorch rank ${pythonRank} and a normsoftmax rank ${1 - pythonRank} agree on allreduce and broadcast`, {
    skip,
  }, async () => {
    const port = await freePort();
    const started = Date.now();
    const ours = spawn(process.execPath, ['--import', 'tsx', RANK_SCRIPT, 'interop'], {
      env: rankEnv(1 - pythonRank, 2, port),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const python = spawn(REFERENCE_PYTHON, [PYTHON_RANK, '127.0.0.1', String(port), String(pythonRank), '2'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const [a, b] = await Promise.all([waitExit(ours, started), waitExit(python, started)]);
    for (const exit of [a, b]) {
      const r = parseResult<{ sum: number[]; broadcast: number[] }>(exit);
      assert.deepEqual(r.sum, [300, 1]);
      assert.deepEqual(r.broadcast, [3, 4]);
    }
  });
}
