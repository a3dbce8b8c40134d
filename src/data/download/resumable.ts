// HTTP download into a `.part` file that survives interruptions: a later attempt asks for the remaining bytes
// with a Range header and appends them. Servers that ignore Range (200 instead of 206) restart the file.

import { createWriteStream, existsSync, statSync, truncateSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DownloadError } from './errors.js';

export interface TransferProgress {
  /** Called once the size is known (undefined when the server does not say). */
  start(total: number | undefined, already: number): void;
  update(received: number): void;
  stop(): void;
}

export interface ResumableOptions {
  progress?: TransferProgress;
  /** Further attempts after a connection drops mid-file, each resuming where the last stopped. */
  retries?: number;
  /** Give up on a connection that delivers nothing for this long. */
  idleTimeoutMs?: number;
  log?: (line: string) => void;
}

/** Downloads `url` into `partPath` (appending to what is already there). Resolves when the server has sent it all. */
export async function downloadResumable(url: string, partPath: string, opts: ResumableOptions = {}): Promise<void> {
  const retries = opts.retries ?? 3;
  for (let attempt = 0; ; attempt++) {
    try {
      await attemptOnce(url, partPath, opts);
      return;
    } catch (e) {
      if (!(e instanceof TransferInterrupted) || attempt >= retries) {
        if (e instanceof TransferInterrupted) {
          throw new DownloadError(`${url}: ${e.message}; the partial download is kept, run again to resume`);
        }
        throw e;
      }
      opts.log?.(`${url}: ${e.message}; resuming (attempt ${attempt + 2} of ${retries + 1})`);
    }
  }
}

/** The connection broke after the response started: worth resuming. */
class TransferInterrupted extends Error {}

async function attemptOnce(url: string, partPath: string, opts: ResumableOptions): Promise<void> {
  let have = existsSync(partPath) ? statSync(partPath).size : 0;
  const controller = new AbortController();
  const idleMs = opts.idleTimeoutMs ?? 60_000;
  let timer = setTimeout(() => controller.abort(), idleMs);
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(), idleMs);
  };
  try {
    let response: Response;
    try {
      response = await fetch(url, {
        headers: have > 0 ? { Range: `bytes=${have}-` } : {},
        redirect: 'follow',
        signal: controller.signal,
      });
    } catch (e) {
      throw new DownloadError(`${url}: ${reason(e, controller.signal.aborted, idleMs)}`);
    }
    if (response.status === 416 && have > 0) {
      // Nothing left to send: the part file is already complete (the checksum decides if it is right).
      await response.body?.cancel();
      return;
    }
    if (response.status === 206) {
      const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
      if (range === null || Number(range[1]) !== have) {
        await response.body?.cancel();
        throw new DownloadError(
          `${url}: the server resumed at the wrong offset (${response.headers.get('content-range')})`,
        );
      }
    } else if (response.status === 200) {
      if (have > 0) opts.log?.(`${url}: the server does not resume downloads; starting over`);
      if (have > 0) truncateSync(partPath, 0);
      have = 0;
    } else {
      await response.body?.cancel();
      throw new DownloadError(`${url}: HTTP ${response.status} ${response.statusText}`.trim());
    }
    const length = Number(response.headers.get('content-length') ?? Number.NaN);
    opts.progress?.start(Number.isFinite(length) ? have + length : undefined, have);
    if (response.body === null) throw new TransferInterrupted('the server sent no body');

    let received = have;
    const counted = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>).map(
      (chunk: Uint8Array) => {
        touch();
        received += chunk.length;
        opts.progress?.update(received);
        return chunk;
      },
    );
    const out = createWriteStream(partPath, { flags: 'a' });
    try {
      await pipeline(counted, out);
    } catch (e) {
      // Writes already queued still land; the next attempt must see the file's final size.
      if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
      throw new TransferInterrupted(reason(e, controller.signal.aborted, idleMs));
    } finally {
      opts.progress?.stop();
    }
    if (Number.isFinite(length) && received !== have + length) {
      throw new TransferInterrupted(`the connection closed after ${received} of ${have + length} bytes`);
    }
  } finally {
    clearTimeout(timer);
  }
}

function reason(e: unknown, timedOut: boolean, idleMs: number): string {
  if (timedOut) return `no data for ${Math.round(idleMs / 1000)} s`;
  const err = e as Error & { cause?: { message?: string; code?: string } };
  return err.cause?.code ?? err.cause?.message ?? err.message;
}
