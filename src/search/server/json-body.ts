// JSON request bodies with their own bounds: a size limit far below the upload limit (a query vector is a few
// KB) and a nesting limit checked by one linear scan before JSON.parse, so that a body nested 100,000 deep is a
// 400 instead of a stack overflow. Errors never quote the body.
import type { FastifyInstance } from 'fastify';
import { HttpError } from './http-error.js';

/** The deepest nesting of objects and arrays in JSON text (strings skipped); stops counting past `limit`. */
export function jsonDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

export function registerJsonBody(app: FastifyInstance, o: { maxBytes: number; maxDepth: number }): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: o.maxBytes },
    (req, body: string, done: (err: Error | null, value?: unknown) => void) => {
      // A DELETE has no body to give, whatever content-type a client sends with it (curl -H ...).
      if (body.length === 0 && req.method === 'DELETE') return done(null, undefined);
      if (body.length === 0) return done(new HttpError(400, 'body: empty; expected a JSON object'));
      if (jsonDepth(body, o.maxDepth) > o.maxDepth) {
        return done(new HttpError(400, `body: JSON nested deeper than ${o.maxDepth} levels`));
      }
      let value: unknown;
      try {
        value = JSON.parse(body);
      } catch (e) {
        const at = /position (\d+)/.exec(e instanceof Error ? e.message : '')?.[1];
        return done(new HttpError(400, `body: not valid JSON${at === undefined ? '' : ` (at character ${at})`}`));
      }
      done(null, value);
    },
  );
}
