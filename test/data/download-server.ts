// A file server on 127.0.0.1 for the download tests: serves fixed bytes with Range support and can misbehave
// on request (ignore Range, cut the connection, send corrupted bytes, answer 404).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Misbehaviour {
  /** Answer every request with the whole file (200), as servers without Range support do. */
  ignoreRange?: boolean;
  /** On the first request, close the connection after this many body bytes. */
  dropFirstAfter?: number;
  /** Flip this byte of the file in every response. */
  corruptByte?: number;
}

export interface TestServer {
  url(file: string): string;
  /** The Range header of every request, in order (undefined when none). */
  ranges: (string | undefined)[];
  close(): Promise<void>;
}

export async function serveFiles(files: Record<string, Buffer>, how: Misbehaviour = {}): Promise<TestServer> {
  const ranges: (string | undefined)[] = [];
  const server: Server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').slice(1).split('?')[0] ?? '');
    const original = files[name];
    ranges.push(req.headers.range);
    if (original === undefined) {
      res.writeHead(404).end();
      return;
    }
    const body = Buffer.from(original);
    if (how.corruptByte !== undefined) body[how.corruptByte] = body[how.corruptByte]! ^ 0xff;
    const match = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let start = 0;
    if (match && !how.ignoreRange) {
      start = Number(match[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, {
        'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}`,
        'Content-Length': body.length - start,
        'Accept-Ranges': 'bytes',
      });
    } else {
      res.writeHead(200, { 'Content-Length': body.length, 'Accept-Ranges': 'bytes' });
    }
    const rest = body.subarray(start);
    if (how.dropFirstAfter !== undefined && ranges.length === 1) {
      // The pause lets the client take the bytes in before the connection breaks (usually; tests allow less).
      res.write(rest.subarray(0, how.dropFirstAfter), () => setTimeout(() => res.socket?.destroy(), 50));
      return;
    }
    res.end(rest);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (file) => `http://127.0.0.1:${port}/${file}`,
    ranges,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
