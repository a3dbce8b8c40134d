// The answer for each kind of error a request can end with (src/search/server/error-answer.ts): the status
// the error carries, its first line (bounded) unless it is a fault of ours, and Retry-After on every 503.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BadImageError } from '../../../src/data/image/bad-image-error.js';
import { DiskFullError } from '../../../src/io/disk-full.js';
import { SearchTimeoutError } from '../../../src/search/search-timeout.js';
import { answerOf, statusOf } from '../../../src/search/server/error-answer.js';
import { HttpError } from '../../../src/search/server/http-error.js';
import { DEFAULT_SERVER_OPTIONS, type ServerOptions } from '../../../src/search/server/options.js';
import { FailureError, FormatError, InputError, UsageError } from '../../../src/util/errors.js';
import { WorkerExitError } from '../../../src/util/supervised-worker.js';

const o: ServerOptions = { ...DEFAULT_SERVER_OPTIONS, retryAfterS: 7, maxUploadBytes: 3 * 1048576, maxJsonBytes: 2048 };
const INTERNAL = 'internal error (see the server log)';

/** An error as fastify and its plugins make them: a message and a statusCode. */
const fastifyError = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode });

test('each error kind carries its status: 400 usage and input, 500 failure, 503 retry later', () => {
  const cases: [unknown, number][] = [
    [new UsageError('x'), 400],
    [new InputError('x'), 400],
    [new FormatError('f', 'x'), 400],
    [new BadImageError('image 1', 'x'), 400],
    [new FailureError('x'), 500],
    [new DiskFullError('/x'), 500],
    [new WorkerExitError('x'), 503],
    [new SearchTimeoutError('x'), 503],
    [new HttpError(404, 'x'), 404],
    [new HttpError(500, 'x'), 500],
    [fastifyError(415, 'x'), 415],
    [fastifyError(502, 'x'), 500],
    [new Error('x'), 500],
    ['not even an Error', 500],
    [null, 500],
  ];
  for (const [e, status] of cases) assert.equal(statusOf(e), status, String((e as Error | null)?.name ?? e));
});

test('usage and input errors: 400 with their first line', () => {
  assert.deepEqual(answerOf(new UsageError("where: expected field = 'value'\nat 3"), o, undefined), {
    status: 400,
    message: "where: expected field = 'value'",
    headers: {},
  });
  assert.deepEqual(answerOf(new BadImageError('image 1', 'not a PNG'), o, undefined), {
    status: 400,
    message: 'image 1: not a PNG',
    headers: {},
  });
});

test('a worker that died or a search past its limit: 503 with its message and Retry-After from the options', () => {
  for (const e of [new WorkerExitError('the search worker exited (code 86)'), new SearchTimeoutError('too slow')]) {
    assert.deepEqual(answerOf(e, o, undefined), { status: 503, message: e.message, headers: { 'retry-after': '7' } });
  }
});

test("HttpError: its status, message and headers; a 503 keeps its own Retry-After, or gets the options'", () => {
  assert.deepEqual(answerOf(new HttpError(503, 'busy', { 'retry-after': '3' }), o, undefined), {
    status: 503,
    message: 'busy',
    headers: { 'retry-after': '3' },
  });
  assert.deepEqual(answerOf(new HttpError(503, 'busy'), o, undefined).headers, { 'retry-after': '7' });
  assert.deepEqual(answerOf(new HttpError(429, 'too many', { 'retry-after': '1' }), o, undefined), {
    status: 429,
    message: 'too many',
    headers: { 'retry-after': '1' },
  });
  // Written for the client: shown even as a 500.
  assert.deepEqual(answerOf(new HttpError(500, 'cannot render item a as PNG (bad)'), o, undefined), {
    status: 500,
    message: 'cannot render item a as PNG (bad)',
    headers: {},
  });
  // Its own 413 message (the pixel limit), not the upload limit's.
  assert.equal(answerOf(new HttpError(413, 'image: too many pixels'), o, undefined).message, 'image: too many pixels');
});

test('a failure, an unknown error or a 5xx from fastify: 500 without its message', () => {
  for (const e of [new FailureError('/srv/secret: broken'), new DiskFullError('/srv/x'), new Error('boom'), 'boom']) {
    assert.deepEqual(answerOf(e, o, undefined), { status: 500, message: INTERNAL, headers: {} });
  }
  assert.deepEqual(answerOf(fastifyError(502, 'upstream'), o, undefined), {
    status: 500,
    message: INTERNAL,
    headers: {},
  });
});

test("fastify's 4xx: its status and message; its 413 names the limit that applies and its flag", () => {
  assert.deepEqual(answerOf(fastifyError(415, 'Unsupported Media Type: text/plain'), o, 'text/plain'), {
    status: 415,
    message: 'Unsupported Media Type: text/plain',
    headers: {},
  });
  const big = fastifyError(413, 'Request body is too large');
  assert.equal(answerOf(big, o, 'image/png').message, 'upload too large: the limit is 3 MB (--max-upload-mb)');
  assert.equal(answerOf(big, o, 'application/json').message, 'JSON body too large: the limit is 2048 bytes');
  const jsonAsUpload = { ...o, maxJsonBytes: 4 * 1048576 };
  assert.equal(
    answerOf(big, jsonAsUpload, 'application/json; charset=utf-8').message,
    'JSON body too large: the limit is 3 MB (--max-upload-mb)',
  );
});

test('a message is its first line, at most 300 characters', () => {
  const long = answerOf(new InputError(`${'x'.repeat(400)}\nsecond`), o, undefined).message;
  assert.equal(long, `${'x'.repeat(300)}...`);
  assert.equal(answerOf(new InputError('  one  \ntwo'), o, undefined).message, 'one');
});
