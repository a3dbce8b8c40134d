// A worker thread for the supervisor tests: answers {id, op} calls; 'crash' ends the thread without an
// answer; 'wait' answers after 50 ms; workerData.failStart posts a failed ready message and ends.
import { parentPort, workerData } from 'node:worker_threads';

const started = Date.now();
if (workerData?.failStart) {
  parentPort.postMessage({ id: 0, ok: false, message: 'cannot start: bad model' });
  process.exit(1);
}
parentPort.postMessage({ id: 0, ok: true, value: { started, env: process.env.ECHO_FAULT ?? null } });
parentPort.on('message', (m) => {
  if (m.op === 'crash') process.exit(7);
  if (m.op === 'throw') throw new Error('uncaught in worker');
  const reply = () => parentPort.postMessage({ id: m.id, ok: true, value: { op: m.op, started } });
  if (m.op === 'wait') setTimeout(reply, 50);
  else reply();
});
