// The engine worker thread: owns the search engine of one index (tensors and usearch indexes) and builds
// HNSW files, so that usearch's synchronous calls, exact search and filter scans never block the main event
// loop. Fault point (tests): search-worker:search ends this thread when a search arrives.
import { parentPort } from 'node:worker_threads';
import { firstLine, NormsoftmaxError } from '../../util/errors.js';
import { faultPoint } from '../../util/fault.js';
import type { RowHits } from '../rescore.js';
import { type EngineData, type EngineQuery, SearchEngine } from './engine.js';
import { buildHnswFile, type HnswBuildRequest } from './hnsw-build.js';

export type EngineRequest =
  | { id: number; op: 'open'; data: EngineData }
  | { id: number; op: 'search'; queries: Float32Array; nq: number; query: EngineQuery }
  | { id: number; op: 'build-hnsw'; request: HnswBuildRequest }
  | { id: number; op: 'close' };

export type EngineReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; message: string; kind: string };

const port = parentPort;
if (port === null) throw new Error('engine-worker.ts must run in a worker thread');
let engine: SearchEngine | null = null;

function handle(req: EngineRequest): unknown {
  switch (req.op) {
    case 'open':
      engine?.close();
      engine = new SearchEngine(req.data);
      return null;
    case 'search': {
      faultPoint('search-worker:search');
      if (!engine) throw new Error('engine worker: search before open');
      const hits: RowHits[] = engine.search(req.queries, req.nq, req.query);
      return hits;
    }
    case 'build-hnsw':
      return buildHnswFile(req.request);
    case 'close':
      engine?.close();
      engine = null;
      return null;
  }
}

port.on('message', (req: EngineRequest) => {
  try {
    port.postMessage({ id: req.id, ok: true, result: handle(req) } satisfies EngineReply);
  } catch (e) {
    const kind = e instanceof NormsoftmaxError ? e.name : 'Error';
    port.postMessage({ id: req.id, ok: false, message: firstLine(e), kind } satisfies EngineReply);
  }
});
