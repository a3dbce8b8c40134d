// The visual-search HTTP service: a fastify app over an open index and a query embedder (both owned by
// the caller, who closes them after the app). Tests drive it with app.inject; `normsoftmax serve` listens.
import { fileURLToPath } from 'node:url';
import fastifyHelmet from '@fastify/helmet';
import fastifyMultipart from '@fastify/multipart';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance } from 'fastify';
import { excerpt } from '../../util/excerpt.js';
import type { QueryEmbedder, VisualSearchIndex } from '../types.js';
import { Admission } from './admission.js';
import { type BrowserModel, browserModelInfo, registerBrowserModelRoutes } from './browser-model.js';
import { type DatasetPixels, openDatasetPixels } from './dataset-pixels.js';
import { EmbedBatcher } from './embed-batcher.js';
import { answerOf } from './error-answer.js';
import { registerHealth } from './health.js';
import { HttpError } from './http-error.js';
import { MAX_ID_LENGTH } from './item-files.js';
import { registerItemRoutes } from './item-routes.js';
import { registerJsonBody } from './json-body.js';
import { createMetrics } from './metrics.js';
import { registerNotFound } from './not-found.js';
import { DEFAULT_SERVER_OPTIONS, jsonLimitOf, type ServerOptions } from './options.js';
import { registerSearchRoute } from './search-route.js';
import { ThumbCache } from './thumbs.js';
import { registerWriteRoutes } from './write-routes.js';

export interface SearchServerSetup {
  index: VisualSearchIndex;
  /** null: the index has no model for images (built from --embeddings); id and vector queries still work. */
  embedder: QueryEmbedder | null;
  options?: Partial<ServerOptions>;
  /**
   * Pictures of items without files (in-memory data sets). Default: the data set named by the index
   * folder's manifest, opened again here; null: none.
   */
  pixels?: DatasetPixels | null;
  /** The model as ONNX for the page's in-browser embedding (default none: the page embeds on the server). */
  browserModel?: BrowserModel | null;
  /** Where 5xx errors (and a data set that cannot be opened again) are reported (default stderr, "serve: "). */
  log?: (line: string) => void;
  /**
   * The bearer token of the write routes (write-routes.ts), for an index opened writable: the routes exist only
   * with both. Never logged.
   */
  writeToken?: string | null;
}

function defaultPixels(dir: string, log: (line: string) => void): DatasetPixels | null {
  try {
    return openDatasetPixels(dir);
  } catch (e) {
    log(`items will have no pictures: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
    return null;
  }
}

const WEB_ROOT = fileURLToPath(new URL('../web/', import.meta.url));

// 'wasm-unsafe-eval' lets onnxruntime-web compile its WebAssembly (in-browser embedding); no JS eval.
const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  imgSrc: ["'self'", 'blob:', 'data:'],
  scriptSrc: ["'self'", "'wasm-unsafe-eval'"],
  styleSrc: ["'self'"],
  connectSrc: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
};

/** An id, percent-encoded (up to 9 characters per UTF-16 unit), fits in a path parameter. */
const MAX_PARAM_LENGTH = MAX_ID_LENGTH * 9;
/** Request line and headers: room for the longest encoded id in a URL. */
const MAX_HEADER_BYTES = 64 * 1024;

export function createSearchServer(setup: SearchServerSetup): FastifyInstance {
  const { index, embedder } = setup;
  const options: ServerOptions = { ...DEFAULT_SERVER_OPTIONS, ...setup.options };
  const log = setup.log ?? ((line: string) => console.error(`serve: ${line}`));
  const metrics = createMetrics(
    () => index.stats().items,
    () => index.live?.(),
  );
  const writer = setup.writeToken ? (index.writer ?? null) : null;
  const admission = new Admission(options.queue, options.retryAfterS, (d) => metrics.queueDepth.set(d));
  const batcher = embedder
    ? new EmbedBatcher(embedder, options.batchSize, options.batchWindowMs, (n) => metrics.embedBatch.observe(n))
    : null;
  const pixels = setup.pixels !== undefined ? setup.pixels : defaultPixels(index.dir, log);
  const thumbs = new ThumbCache(options.thumbSize, options.thumbMemoryEntries, options.thumbDir);

  const app = Fastify({
    logger: false,
    bodyLimit: options.maxUploadBytes,
    requestTimeout: options.timeoutMs,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    http: { maxHeaderSize: MAX_HEADER_BYTES },
  });

  registerNotFound(app);
  app.removeContentTypeParser('text/plain'); // JSON, multipart or an image: anything else is 415
  registerJsonBody(app, { maxBytes: jsonLimitOf(options), maxDepth: options.maxJsonDepth });
  app.register(fastifyMultipart, {
    limits: { fileSize: options.maxUploadBytes, files: 2, fields: 10, fieldSize: 4096, parts: 12 },
  });
  // A raw image body (curl --data-binary @q.jpg -H 'content-type: image/jpeg'), options in the query string.
  app.addContentTypeParser(/^image\//, { parseAs: 'buffer', bodyLimit: options.maxUploadBytes }, (_req, body, done) =>
    done(null, body),
  );

  app.register(fastifyHelmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // Thumbnails and images may be shown by the one origin CORS allows; otherwise by this page only.
    crossOriginResourcePolicy: { policy: options.cors === null ? 'same-origin' : 'cross-origin' },
    // Plain HTTP on a private network by default: HSTS would be ignored there, or wrong behind a proxy.
    strictTransportSecurity: false,
  });
  if (options.rateLimit !== null) {
    app.register(fastifyRateLimit, {
      global: true,
      max: options.rateLimit,
      timeWindow: 1000,
      // Health checks and metrics come from the operator's own probes, which a limit would only blind.
      allowList: (req) => req.url === '/health' || req.url === '/metrics',
      errorResponseBuilder: (_req, ctx) =>
        new HttpError(429, `too many requests: at most ${ctx.max} per second from one client (--rate-limit)`, {
          'retry-after': String(Math.max(1, Math.ceil(ctx.ttl / 1000))),
        }),
    });
  }

  app.addHook('onRequest', async (req, reply) => {
    if (options.cors !== null && (options.cors === '*' || req.headers.origin === options.cors)) {
      reply.header('access-control-allow-origin', options.cors).header('vary', 'Origin');
    }
  });
  // While closing, answers end their connection: a keep-alive connection would hold close() open forever.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_req, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: req.method, status: String(reply.statusCode) });
    metrics.latency.observe({ route, method: req.method }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((e, req, reply) => {
    const a = answerOf(e, options, req.headers['content-type']);
    if (a.status >= 500 && a.status !== 503)
      log(`${req.method} ${excerpt(req.url)}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    reply.code(a.status).headers(a.headers).send({ error: a.message, statusCode: a.status });
  });

  if (options.cors !== null) {
    app.options('/api/*', async (_req, reply) =>
      reply
        .code(204)
        .header('access-control-allow-methods', writer ? 'GET, POST, PUT, DELETE, OPTIONS' : 'GET, POST, OPTIONS')
        .header('access-control-allow-headers', writer ? 'content-type, authorization' : 'content-type')
        .header('access-control-max-age', '600')
        .send(),
    );
  }

  // The routes, in a scope registered after the plugins above, so that the rate limit's hooks reach them.
  app.register(async (api) => {
    registerHealth(api, { index, embedder, queueDepth: () => admission.depth });
    api.get('/metrics', async (_req, reply) => {
      const text = await metrics.registry.metrics();
      return reply.header('content-type', metrics.registry.contentType).send(text);
    });
    api.get('/api/info', async () => {
      // Live figures: a writable index's items and generation change while it is served.
      const stats = index.stats();
      return {
        items: stats.items,
        dim: stats.dim,
        precision: stats.precision,
        backend: stats.backend,
        generation: stats.generation,
        hnsw: stats.hnsw,
        bytesOnDisk: stats.bytesOnDisk,
        modes: ['float', 'binary', 'rerank'],
        imageSearch: embedder !== null,
        images: index.imageRoot !== null || pixels !== null || writer !== null,
        maxUploadBytes: options.maxUploadBytes,
        maxPixels: options.maxPixels,
        browserEmbed: browserModelInfo(setup.browserModel ?? null),
        embedder: {
          arch: index.embedder.arch,
          dim: index.embedder.dim,
          checkpointSha256: index.embedder.checkpointSha256,
          input: index.embedder.input,
          resize: index.embedder.resize,
          crop: index.embedder.crop,
          jpegDraft: index.embedder.jpegDraft === true,
        },
        writable: writer !== null,
      };
    });

    registerSearchRoute(api, { index, embedder, batcher, admission, metrics, options });
    registerItemRoutes(api, index, thumbs, pixels);
    if (writer && setup.writeToken)
      registerWriteRoutes(api, {
        index,
        writer,
        batcher,
        admission,
        metrics,
        options,
        pixels,
        token: setup.writeToken,
      });
    registerBrowserModelRoutes(api, setup.browserModel ?? null);
    api.register(fastifyStatic, {
      root: WEB_ROOT,
      prefix: '/',
      wildcard: false,
      index: ['index.html'],
      cacheControl: false,
    });
  });
  return app;
}
