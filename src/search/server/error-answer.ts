// What the service answers for an error a request ends with. The status is the one the error carries:
// `httpStatus` on ours (src/util/errors.ts: 400 usage and input errors, 500 failures, 503 a worker that died
// or a search past its time limit; HttpError: its own), `statusCode` on fastify's and its plugins' 4xx.
// Anything else is a fault of ours: 500, its message only in the server log. A 503 always says when to
// come back (Retry-After: the error's own, or --retry-after).
import type { FastifyError } from 'fastify';
import { NormsoftmaxError } from '../../util/errors.js';
import { HttpError } from './http-error.js';
import { jsonLimitOf, type ServerOptions } from './options.js';

export interface ErrorAnswer {
  status: number;
  message: string;
  headers: Record<string, string>;
}

/** Longest message an error answer carries (it quotes at most an excerpt of what the client sent). */
const MAX_MESSAGE = 300;
const INTERNAL = 'internal error (see the server log)';

const sizeText = (bytes: number): string =>
  bytes < 1048576 ? `${bytes} bytes` : `${Math.round((bytes / 1048576) * 100) / 100} MB`;

/** fastify's 413 names no limit: say which one, and the flag that sets it. */
function tooLarge(o: ServerOptions, contentType: string | undefined): string {
  const json = jsonLimitOf(o);
  if (contentType?.startsWith('application/json'))
    return `JSON body too large: the limit is ${sizeText(json)}${json === o.maxUploadBytes ? ' (--max-upload-mb)' : ''}`;
  return `upload too large: the limit is ${sizeText(o.maxUploadBytes)} (--max-upload-mb)`;
}

function firstLine(s: string): string {
  const line = (s.split('\n')[0] ?? s).trim();
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE)}...` : line;
}

/** The status an error carries; 500 for one that carries none (or a 5xx from fastify). */
export function statusOf(e: unknown): number {
  if (e instanceof NormsoftmaxError || e instanceof HttpError) return e.httpStatus;
  const status = (e as FastifyError | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : 500;
}

export function answerOf(e: unknown, o: ServerOptions, contentType: string | undefined): ErrorAnswer {
  const status = statusOf(e);
  const ours = e instanceof NormsoftmaxError || e instanceof HttpError;
  const headers: Record<string, string> = e instanceof HttpError ? { ...e.headers } : {};
  if (status === 503 && headers['retry-after'] === undefined) headers['retry-after'] = String(o.retryAfterS);
  let message: string;
  if (status === 500 && !(e instanceof HttpError)) message = INTERNAL;
  else if (status === 413 && !ours) message = tooLarge(o, contentType);
  else message = firstLine((e as Error).message);
  return { status, message, headers };
}
