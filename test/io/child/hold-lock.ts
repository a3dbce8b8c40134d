// A writer for writer-lock.test.ts: node --import tsx hold-lock.ts DIR SYNC. Writes SYNC/ready-PID, waits
// for SYNC/go, tries to take DIR's writer lock and prints "won PID" or "lost HOLDER_PID"; a winner holds
// the lock until SYNC/done exists (or a signal ends it), then exits normally.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireWriterLock, LockHeldError } from '../../../src/io/writer-lock.js';

const [dir, sync] = process.argv.slice(2) as [string, string];
const nap = new Int32Array(new SharedArrayBuffer(4));
const waitFor = (name: string) => {
  while (!existsSync(join(sync, name))) Atomics.wait(nap, 0, 0, 1);
};
writeFileSync(join(sync, `ready-${process.pid}`), '');
waitFor('go');
try {
  acquireWriterLock(dir, 'test writer');
  console.log(`won ${process.pid}`);
} catch (e) {
  if (!(e instanceof LockHeldError)) throw e;
  console.log(`lost ${e.holder.pid}`);
  process.exit(0);
}
// Hold it, with the event loop free (so signals are handled), until told to finish.
const timer = setInterval(() => {
  if (existsSync(join(sync, 'done'))) clearInterval(timer);
}, 5);
