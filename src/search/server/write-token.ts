// The bearer token of the write routes: `Authorization: Bearer TOKEN`. Missing or malformed: 401 (with
// WWW-Authenticate); another token: 403. Compared in constant time (SHA-256 of both, timingSafeEqual: the
// time does not depend on where they differ, nor on the length given), and never logged or echoed.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './http-error.js';

/** Shortest token `serve --writable` accepts. */
export const MIN_TOKEN_CHARS = 16;
/** Longest: a token is sent in a header on every write. */
export const MAX_TOKEN_CHARS = 512;

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** An onRequest hook that lets a request through only with the token (before its body is read). */
export function requireWriteToken(token: string): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const want = digest(token);
  return async (req) => {
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer +(\S+) *$/i.exec(header) : null;
    if (!m) {
      throw new HttpError(401, 'writes need a token: send "Authorization: Bearer TOKEN" (serve --write-token-file)', {
        'www-authenticate': 'Bearer realm="normsoftmax"',
      });
    }
    if (!timingSafeEqual(digest(m[1] as string), want))
      throw new HttpError(403, "the write token is not this server's");
  };
}
