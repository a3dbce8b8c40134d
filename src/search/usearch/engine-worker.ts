// The engine worker thread: owns the search engine of one index (tensors and usearch indexes, with a live
// index's delta and tombstones: live-engine.ts), builds HNSW files, and compacts a live index into a new
// generation (compact.ts; the worker then searches that one), so that usearch's synchronous calls, exact
// search, filter scans and compaction never block the main event loop. Fault point (tests):
// search-worker:search ends this thread when a search arrives.
import { parentPort } from 'node:worker_threads';
import { mapFile } from '../../io/mapped-file.js';
import { firstLine, NormsoftmaxError } from '../../util/errors.js';
import { faultPoint } from '../../util/fault.js';
import type { DeltaChange, DeltaState } from '../live/delta.js';
import { type CompactRequest, compactGeneration } from './compact.js';
import { type EngineData, type EngineQuery, SearchEngine } from './engine.js';
import { buildHnswFile, type HnswBuildRequest } from './hnsw-build.js';
import { LiveEngine, type LiveHits } from './live-engine.js';

export type EngineRequest =
  | { id: number; op: 'open'; data: EngineData }
  | { id: number; op: 'search'; queries: Float32Array; nq: number; query: EngineQuery }
  | { id: number; op: 'build-hnsw'; request: HnswBuildRequest }
  | { id: number; op: 'delta'; change: DeltaChange }
  | { id: number; op: 'delta-state'; state: DeltaState }
  | { id: number; op: 'compact'; request: CompactRequest }
  | { id: number; op: 'close' };

export type EngineReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; message: string; kind: string };

const port = parentPort;
if (port === null) throw new Error('engine-worker.ts must run in a worker thread');
let engine: LiveEngine | null = null;

function open(sent: EngineData): LiveEngine {
  let data = sent;
  if (sent.vectorsFile) {
    const { bytes } = mapFile(sent.vectorsFile.path, sent.vectorsFile.identity);
    data = { ...sent, vectors: new Float32Array(bytes.buffer, bytes.byteOffset, sent.n * sent.dim) };
  }
  return new LiveEngine(data.n > 0 ? new SearchEngine(data) : null, data.n, data.dim);
}

function handle(req: EngineRequest): unknown {
  switch (req.op) {
    case 'open':
      engine?.close();
      engine = open(req.data);
      return null;
    case 'search': {
      faultPoint('search-worker:search');
      if (!engine) throw new Error('engine worker: search before open');
      const hits: LiveHits[] = engine.search(req.queries, req.nq, req.query);
      return hits;
    }
    case 'delta':
      if (!engine) throw new Error('engine worker: delta before open');
      return engine.apply(req.change);
    case 'delta-state':
      if (!engine) throw new Error('engine worker: delta before open');
      engine.setState(req.state);
      return null;
    case 'compact': {
      const done = compactGeneration(req.request);
      engine?.close();
      engine = open(done.data);
      return done.result;
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
