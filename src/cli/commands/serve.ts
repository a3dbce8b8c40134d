// `normsoftmax serve --index IDX`: the visual-search HTTP service and its web page. Loads the index and
// the query model once; stops gracefully on SIGTERM / SIGINT (in-flight requests finish, then exit 0).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { GRAPH_BOUNDS } from '../../search/graph-settings.js';
import { DEFAULT_COMPACT_ABOVE } from '../../search/live/live-index.js';
import { DEFAULT_SERVER_OPTIONS, MAX_PIXELS_CEILING } from '../../search/server/options.js';
import { startSearchService } from '../../search/server/start-service.js';
import { MAX_TOKEN_CHARS, MIN_TOKEN_CHARS } from '../../search/server/write-token.js';
import { firstLine, UsageError } from '../../util/errors.js';
import { addEngineOptions, engineFromFlags } from '../engine-flag.js';
import { optionalBounded, optionalInteger, parseNumber } from '../parse-flags.js';

/** In-flight requests get this long to finish after SIGTERM / SIGINT before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 9000;

interface ServeFlags {
  index: string;
  backend?: string;
  port: string;
  host: string;
  maxUploadMb: string;
  maxPixels?: string;
  cors?: string;
  queue?: string;
  timeoutMs?: string;
  ef?: string;
  checkpoint?: string;
  force?: boolean;
  precision?: string;
  engine?: string;
  threads?: string;
  browserEmbed: boolean;
  rateLimit?: string;
  writable?: boolean;
  writeTokenFile?: string;
  compactAbove?: string;
}

export const WRITE_TOKEN_ENV = 'NORMSOFTMAX_WRITE_TOKEN';

/**
 * The write routes' token: the first line of --write-token-file, else $NORMSOFTMAX_WRITE_TOKEN. Never printed:
 * the messages name where it came from, not what it is.
 */
function writeTokenOf(f: ServeFlags): string {
  let token: string;
  let from: string;
  if (f.writeTokenFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(f.writeTokenFile, 'utf8');
    } catch (e) {
      throw new UsageError(`--write-token-file ${f.writeTokenFile}: cannot read it (${firstLine(e)})`);
    }
    token = (text.split(/\r?\n/)[0] ?? '').trim();
    from = `--write-token-file ${f.writeTokenFile}`;
  } else {
    token = (process.env[WRITE_TOKEN_ENV] ?? '').trim();
    from = `$${WRITE_TOKEN_ENV}`;
    if (token === '')
      throw new UsageError(
        `--writable: writes need a token: give --write-token-file FILE (its first line) or set $${WRITE_TOKEN_ENV}`,
      );
  }
  if (token.length < MIN_TOKEN_CHARS || token.length > MAX_TOKEN_CHARS || /\s/.test(token))
    throw new UsageError(
      `${from}: expected a token of ${MIN_TOKEN_CHARS} to ${MAX_TOKEN_CHARS} characters without spaces (e.g. openssl rand -hex 24)`,
    );
  return token;
}

/** --rate-limit N/s (or N): requests per second one client may make. */
function parseRateLimit(v: string | undefined): number | null {
  if (v === undefined) return null;
  const m = /^\s*(\d+)\s*(?:\/\s*s)?\s*$/.exec(v);
  const n = m ? Number(m[1]) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000)
    throw new UsageError(`--rate-limit: expected requests per second per client such as 20/s, got "${v}"`);
  return n;
}

function parseCors(v: string | undefined): string | null {
  if (v === undefined) return null;
  if (v === '*') return v;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new UsageError(`--cors: expected an origin such as https://shop.example.com (or *), got "${v}"`);
  }
  if (!/^https?:$/.test(url.protocol) || url.origin !== v.replace(/\/$/, '')) {
    throw new UsageError(`--cors: expected an origin (scheme://host[:port], no path), got "${v}"`);
  }
  return url.origin;
}

async function serve(f: ServeFlags): Promise<void> {
  const port = optionalInteger('--port', f.port, 8080, 0);
  if (port > 65535) throw new UsageError(`--port: expected 0 to 65535, got "${f.port}"`);
  const maxUploadMb = parseNumber('--max-upload-mb', f.maxUploadMb);
  if (!(maxUploadMb > 0) || maxUploadMb > 1024) {
    throw new UsageError(`--max-upload-mb: expected a number above 0 and at most 1024, got "${f.maxUploadMb}"`);
  }
  const maxPixels = optionalInteger('--max-pixels', f.maxPixels, DEFAULT_SERVER_OPTIONS.maxPixels);
  if (maxPixels > MAX_PIXELS_CEILING) {
    throw new UsageError(
      `--max-pixels: expected at most ${MAX_PIXELS_CEILING} (what the decoders take), got "${f.maxPixels}"`,
    );
  }
  const queue = optionalInteger('--queue', f.queue, DEFAULT_SERVER_OPTIONS.queue);
  const timeoutMs = optionalInteger('--timeout-ms', f.timeoutMs, DEFAULT_SERVER_OPTIONS.timeoutMs);
  const ef = optionalBounded('--ef', f.ef, GRAPH_BOUNDS.ef.min, GRAPH_BOUNDS.ef.max);
  const cors = parseCors(f.cors);
  const rateLimit = parseRateLimit(f.rateLimit);
  const choice = engineFromFlags(f, { value: f.precision });
  const log = (line: string) => console.error(`serve: ${line}`);
  if (!f.writable && (f.writeTokenFile !== undefined || f.compactAbove !== undefined))
    throw new UsageError(
      `${f.writeTokenFile !== undefined ? '--write-token-file' : '--compact-above'}: only with --writable`,
    );
  const writable = f.writable
    ? {
        token: writeTokenOf(f),
        compactAbove: optionalInteger('--compact-above', f.compactAbove, DEFAULT_COMPACT_ABOVE),
      }
    : undefined;

  const service = await startSearchService({
    index: f.index,
    backend: f.backend,
    port,
    host: f.host,
    checkpoint: f.checkpoint,
    force: f.force,
    precision: choice.precision,
    // Without --engine the query embedder chooses for the checkpoint it runs (an index built from an .onnx
    // model: onnxruntime), by the same rule as the flags.
    engine: f.engine === undefined ? undefined : choice.engine,
    threads: choice.threads,
    browserEmbed: f.browserEmbed,
    ...(ef !== undefined ? { ef } : {}),
    options: { maxUploadBytes: Math.round(maxUploadMb * 1024 * 1024), maxPixels, cors, rateLimit, queue, timeoutMs },
    log,
    ...(writable ? { writable } : {}),
  });
  const s = service.stats();
  const model = service.embedder ? `model ${service.index.embedder.arch ?? 'from the checkpoint'}` : 'no model';
  const mode = writable
    ? `, writable: PUT/DELETE /api/items/:id with the token, compacting above ${writable.compactAbove}`
    : '';
  console.error(`serve: ${s.items} items (${s.dim}-d, ${model}${mode}) on ${service.url}`);

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        console.error(`serve: ${signal} again: exiting now`);
        process.exit(signal === 'SIGINT' ? 130 : 143);
      }
      stopping = true;
      console.error(`serve: ${signal}: finishing in-flight requests, then exiting`);
      const deadline = setTimeout(() => {
        console.error(`serve: requests still running after ${SHUTDOWN_GRACE_MS / 1000} s: exiting anyway`);
        process.exit(1);
      }, SHUTDOWN_GRACE_MS);
      deadline.unref();
      service
        .close()
        .then(() => {
          clearTimeout(deadline);
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          console.error('serve: stopped');
          resolve();
        })
        .catch((e: unknown) => {
          console.error(`serve: error while stopping: ${firstLine(e)}`);
          process.exit(1);
        });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

export function register(program: Command): void {
  const cmd = program
    .command('serve')
    .description('serve an index over HTTP: search API, thumbnails, metrics and a web page')
    .requiredOption('--index <dir>', 'the index folder (from `normsoftmax index build`)')
    .option('--backend <b>', 'usearch or lancedb: what the index must be (it is read from its manifest)')
    .option('--port <n>', 'TCP port (0: any free port)', '8080')
    .option('--host <addr>', 'address to bind (default loopback only; 0.0.0.0 for every interface)', '127.0.0.1')
    .option('--max-upload-mb <n>', 'largest upload or request body in MB (413 above)', '10')
    .option(
      '--max-pixels <n>',
      `largest query image, width x height from its header, refused (413) before decoding (default ${DEFAULT_SERVER_OPTIONS.maxPixels})`,
    )
    .option('--cors <origin>', 'allow this browser origin to call the API (default: CORS off)')
    .option('--rate-limit <n/s>', 'at most this many requests per second from one client (429 above; default no limit)')
    .option(
      '--queue <n>',
      `most searches queued at once; more get 503 + Retry-After (default ${DEFAULT_SERVER_OPTIONS.queue})`,
    )
    .option(
      '--ef <n>',
      `HNSW search beam of every search, ${GRAPH_BOUNDS.ef.min}-${GRAPH_BOUNDS.ef.max} (default the index's, 64); a request's "ef" field overrides it`,
    )
    .option('--timeout-ms <n>', `request and search time limit in ms (default ${DEFAULT_SERVER_OPTIONS.timeoutMs})`)
    .option('--checkpoint <file>', "embed query images with this checkpoint instead of the index's")
    .option('--force', 'accept a checkpoint that is not the one the index was built with')
    .option(
      '--precision <p>',
      'query image forwards: fp32 (default), bf16 (autocast; fp32 on a CPU without AVX-512 BF16 or AMX, saying why), or auto (bf16 where the CPU has AVX-512 BF16 or AMX)',
    )
    .option('--no-browser-embed', 'do not offer the model to the page for embedding query images in the browser')
    .option(
      '--writable',
      `open the write routes (PUT and DELETE /api/items/:id) behind a bearer token; holds the index's writer lock`,
    )
    .option('--write-token-file <file>', `with --writable: the token is its first line (default $${WRITE_TOKEN_ENV})`)
    .option(
      '--compact-above <n>',
      `with --writable: compact in the background when the delta passes this many items (default ${DEFAULT_COMPACT_ABOVE})`,
    );
  addEngineOptions(cmd).action(serve);
}
