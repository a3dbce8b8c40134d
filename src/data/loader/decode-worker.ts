// A decode worker: reads, decodes and transforms images off the main thread, one message per image.
// Requests are handled one at a time in arrival order: the loader posts a whole prefetch window at
// once, and decoding (libjpeg, on this thread) is what the parallelism across workers is for.
import { parentPort } from 'node:worker_threads';
import { BadImageError, firstLine } from '../image/bad-image-error.js';
import { loadPixels } from '../image/source.js';
import { draftTarget } from '../image/transform-config.js';
import { outChannelsOf, processPixels } from './process-image.js';
import type { WorkerReply, WorkerRequest } from './worker-protocol.js';

const port = parentPort;
if (port === null) throw new Error('decode-worker.ts must run in a worker thread');

async function handle(req: WorkerRequest): Promise<void> {
  try {
    const pixels = await loadPixels({ path: req.path, label: 0 }, undefined, outChannelsOf(req.config), {
      sync: true,
      draftTo: draftTarget(req.config),
    });
    const result = processPixels(req.path, pixels, req);
    const transfer: ArrayBuffer[] = [result.chw.buffer as ArrayBuffer];
    let resized = result.resized;
    if (resized) {
      // A private copy: the decoded buffer may belong to sharp and not be transferable.
      resized = { ...resized, data: resized.data.slice() };
      transfer.push(resized.data.buffer as ArrayBuffer);
    }
    const reply: WorkerReply = { id: req.id, ok: true, chw: result.chw, shape: result.shape, resized };
    port?.postMessage(reply, transfer);
  } catch (e) {
    const bad = e instanceof BadImageError;
    const reply: WorkerReply = { id: req.id, ok: false, bad, path: req.path, message: bad ? e.reason : firstLine(e) };
    port?.postMessage(reply);
  }
}

let queue: Promise<void> = Promise.resolve();
port.on('message', (req: WorkerRequest) => {
  queue = queue.then(() => handle(req)); // handle never rejects: failures are replies
});
