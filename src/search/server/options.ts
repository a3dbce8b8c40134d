// Settings of the HTTP service (`normsoftmax serve` flags map onto these).

export interface ServerOptions {
  /** Largest accepted upload (an image), in bytes (413 above). */
  maxUploadBytes: number;
  /** Largest accepted JSON body, in bytes (413 above): a query vector of 2048 numbers is about 40 KB. */
  maxJsonBytes: number;
  /** Deepest nesting of a JSON body (400 above); a search body is 2 levels deep. */
  maxJsonDepth: number;
  /** Requests per second one client (IP address) may make, or null: no limit (429 above). */
  rateLimit: number | null;
  /** Largest query image, width x height in pixels as its header says (413 above, before any decoding). */
  maxPixels: number;
  /** The one origin allowed to call the API from a browser (CORS), or null: no CORS headers at all. */
  cors: string | null;
  /** Most searches admitted at once (running + waiting); more get 503 with Retry-After. */
  queue: number;
  /** A search that has not answered after this long gets 503; also the limit to receive a request. */
  timeoutMs: number;
  /** Micro-batching of image queries: at most this many per embed call... */
  batchSize: number;
  /** ...collected for at most this long after the first one arrives. */
  batchWindowMs: number;
  /** Thumbnails fit in a square of this many pixels. */
  thumbSize: number;
  /** Where generated thumbnails are kept across restarts, or null: memory only. */
  thumbDir: string | null;
  /** Thumbnails kept in memory (least recently used go first). */
  thumbMemoryEntries: number;
  /** Seconds a client waits before retrying after a 503. */
  retryAfterS: number;
}

export const DEFAULT_SERVER_OPTIONS: ServerOptions = Object.freeze({
  maxUploadBytes: 10 * 1024 * 1024,
  maxJsonBytes: 1024 * 1024,
  maxJsonDepth: 32,
  rateLimit: null,
  maxPixels: 50_000_000,
  cors: null,
  queue: 64,
  timeoutMs: 30_000,
  batchSize: 16,
  batchWindowMs: 4,
  thumbSize: 160,
  thumbDir: null,
  thumbMemoryEntries: 2000,
  retryAfterS: 1,
});

/** The JSON body limit: --max-upload-mb bounds every body, JSON ones further. */
export const jsonLimitOf = (o: ServerOptions): number => Math.min(o.maxJsonBytes, o.maxUploadBytes);

/** The most --max-pixels may allow: the decoders' own ceiling (sharp's default limitInputPixels, 0x3FFF squared). */
export const MAX_PIXELS_CEILING = 0x3fff * 0x3fff;

/** Largest k a search may ask for. */
export const MAX_K = 1000;
