// The visual-search service started as `normsoftmax serve` starts it (and the library's serve()): the index
// opened (its backend checked when one is named), the query model loaded once and warmed up, the model offered
// to the page for in-browser embedding, the fastify app listening. Closing stops the app (in-flight requests
// finish), then the model's and the index's workers.
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import type { EngineName } from '../../embed/engine.js';
import { acquireWriterLock } from '../../io/writer-lock.js';
import type { Precision } from '../../tensor/precision.js';
import { firstLine, UsageError } from '../../util/errors.js';
import { expectBackend } from '../backends.js';
import { openIndex } from '../open-index.js';
import { createQueryEmbedder } from '../query-embedder.js';
import type { IndexStats, QueryEmbedder, VisualSearchIndex } from '../types.js';
import { createSearchServer } from './app.js';
import type { BrowserModel } from './browser-model.js';
import { browserModelFor } from './browser-model-file.js';
import type { ServerOptions } from './options.js';
import { MIN_TOKEN_CHARS } from './write-token.js';

export interface ServiceStart {
  /** The index folder. */
  index: string;
  /** usearch or lancedb: what the index must be (a mismatch is a UsageError). */
  backend?: string;
  /** Default 8080; 0: any free port. */
  port?: number;
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Embed query images with this checkpoint instead of the index's; force: even if it is not the index's. */
  checkpoint?: string;
  force?: boolean;
  engine?: EngineName;
  precision?: Precision;
  threads?: number;
  /** The HNSW search beam of searches that name none (default the index's). */
  ef?: number;
  /** Offer the model to the page for in-browser embedding (default true). */
  browserEmbed?: boolean;
  /** Limits and settings (server/options.ts); thumbnails go to IDX/thumbs when the folder is writable. */
  options?: Partial<ServerOptions>;
  /** One line per event (model, restarts, 5xx); default stderr, prefixed "serve: ". */
  log?: (line: string) => void;
  /**
   * Open the index for writing (`serve --writable`): the folder's writer lock is held until close, and the
   * write routes take this bearer token; compactAbove: delta entries above which it compacts in the background.
   */
  writable?: { token: string; compactAbove?: number };
}

export interface RunningService {
  /** http://host:port */
  readonly url: string;
  readonly app: FastifyInstance;
  readonly index: VisualSearchIndex;
  readonly embedder: QueryEmbedder | null;
  stats(): IndexStats;
  /** Stops listening; in-flight requests finish; then the workers end. */
  close(): Promise<void>;
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** One small embed before listening, so the first user's query does not pay for the model's first run. */
async function warmUp(embedder: QueryEmbedder): Promise<void> {
  const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .png()
    .toBuffer();
  await embedder.embed([new Uint8Array(png)]);
}

export async function startSearchService(s: ServiceStart): Promise<RunningService> {
  const log = s.log ?? ((line: string) => console.error(`serve: ${line}`));
  const port = s.port ?? 8080;
  const host = s.host ?? '127.0.0.1';
  expectBackend(s.index, s.backend);
  if (s.writable && s.writable.token.length < MIN_TOKEN_CHARS)
    throw new UsageError(`the write token: expected at least ${MIN_TOKEN_CHARS} characters`);
  // One writer at a time: index add/remove/compact and index build refuse while this server holds the lock.
  const lock = s.writable ? acquireWriterLock(s.index, 'serve --writable') : null;
  let index: VisualSearchIndex;
  try {
    index = await openIndex(s.index, {
      log,
      ...(s.ef !== undefined ? { ef: s.ef } : {}),
      ...(lock && s.writable ? { writer: { lock, compactAbove: s.writable.compactAbove } } : {}),
    });
  } catch (e) {
    lock?.release();
    throw e;
  }
  let embedder: QueryEmbedder | null = null;
  let browserModel: BrowserModel | null = null;
  try {
    const checkpoint = s.checkpoint ?? index.embedder.checkpointPath;
    if (checkpoint === null) {
      log('the index has no model (built from vectors): image queries are off, id and vector work');
    } else {
      embedder = await createQueryEmbedder(index.embedder, {
        ...(s.checkpoint !== undefined ? { checkpoint: s.checkpoint } : {}),
        ...(s.force ? { force: true } : {}),
        ...(s.precision !== undefined ? { precision: s.precision } : {}),
        // Without an engine the query embedder chooses for the checkpoint it runs (an index built from an
        // .onnx model: onnxruntime), by the same rule as the flags.
        ...(s.engine !== undefined ? { engine: s.engine } : {}),
        ...(s.threads !== undefined ? { threads: s.threads } : {}),
        log,
      });
      await warmUp(embedder);
      // After the query embedder (which checked the checkpoint): an onnxruntime one has cached the model.
      if (s.browserEmbed !== false) browserModel = await browserModelFor(checkpoint, index.embedder, log);
    }
  } catch (e) {
    await embedder?.close();
    await index.close();
    lock?.release();
    throw e;
  }
  const app = createSearchServer({
    index,
    embedder,
    options: { thumbDir: writable(index.dir) ? join(index.dir, 'thumbs') : null, ...s.options },
    browserModel,
    log,
    writeToken: s.writable?.token ?? null,
  });
  const release = async () => {
    await embedder?.close();
    try {
      await index.close();
    } finally {
      lock?.release();
    }
  };
  let url: string;
  try {
    url = await app.listen({ port, host });
  } catch (e) {
    await app.close();
    await release();
    throw new UsageError(`--host ${host} --port ${port}: cannot listen (${firstLine(e)})`);
  }
  return {
    url,
    app,
    index,
    embedder,
    stats: () => index.stats(),
    async close() {
      await app.close();
      await release();
    },
  };
}
