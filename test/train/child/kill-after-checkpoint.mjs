// Preloaded into a training run (node --import) by resume-kill.test.ts: SIGKILLs the process right after
// the Nth checkpoint (OUT/last.safetensors) has been renamed into place, N from
// NORMSOFTMAX_TEST_KILL_AFTER_CHECKPOINT: a kill at an exact point between "checkpoint saved" and
// whatever the trainer does next, which polling from outside cannot hit.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const n = Number(process.env.NORMSOFTMAX_TEST_KILL_AFTER_CHECKPOINT);
if (!Number.isInteger(n) || n < 1) throw new Error('NORMSOFTMAX_TEST_KILL_AFTER_CHECKPOINT must be a positive integer');
const rename = fs.renameSync;
let seen = 0;
fs.renameSync = (from, to) => {
  rename(from, to);
  if (String(to).endsWith('last.safetensors') && ++seen === n) process.kill(process.pid, 'SIGKILL');
};
syncBuiltinESMExports();
