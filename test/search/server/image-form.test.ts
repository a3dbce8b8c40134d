// readImageForm (the multipart body of a search by image and of a put): one file, in the field "image", and
// the named text fields; each other shape is a 400 whose one line names the field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fastifyMultipart from '@fastify/multipart';
import Fastify from 'fastify';
import { HttpError } from '../../../src/search/server/http-error.js';
import { readImageForm } from '../../../src/search/server/image-form.js';

type Part = { name: string; value: string } | { name: string; file: Buffer };

function body(parts: Part[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----imageformtest';
  const chunks = parts.map((p) =>
    'file' in p
      ? Buffer.concat([
          Buffer.from(
            `--${boundary}\r\ncontent-disposition: form-data; name="${p.name}"; filename="x.png"\r\ncontent-type: image/png\r\n\r\n`,
          ),
          p.file,
          Buffer.from('\r\n'),
        ])
      : Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${p.name}"\r\n\r\n${p.value}\r\n`),
  );
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

async function post(per: 'item' | 'search', allowed: string[], parts: Part[]) {
  const app = Fastify();
  await app.register(fastifyMultipart);
  app.setErrorHandler((e, _req, reply) => {
    if (e instanceof HttpError) return reply.code(e.httpStatus).send({ error: e.message });
    return reply.code(500).send({ error: String(e) });
  });
  app.post('/', async (req) => {
    const { bytes, fields } = await readImageForm(req, allowed, per);
    return { bytes: bytes.toString('hex'), fields };
  });
  try {
    const r = await app.inject({ method: 'POST', url: '/', ...body(parts) });
    return { status: r.statusCode, json: r.json() as Record<string, unknown> };
  } finally {
    await app.close();
  }
}

const png = Buffer.from([1, 2, 3]);

test('the image and the allowed fields come back as sent', async () => {
  const r = await post(
    'item',
    ['label', 'meta'],
    [
      { name: 'label', value: 'red' },
      { name: 'image', file: png },
      { name: 'meta', value: '{"n":1}' },
    ],
  );
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { bytes: '010203', fields: { label: 'red', meta: '{"n":1}' } });
});

test('each other shape is a 400 naming what was expected', async () => {
  const cases: [Parameters<typeof post>, string][] = [
    [
      [
        'item',
        ['label', 'meta'],
        [
          { name: 'image', file: png },
          { name: 'image', file: png },
        ],
      ],
      'one image per item',
    ],
    [
      [
        'search',
        ['k'],
        [
          { name: 'image', file: png },
          { name: 'image', file: png },
        ],
      ],
      'one image per search',
    ],
    [['item', ['label'], [{ name: 'photo', file: png }]], 'unexpected file field "photo": send the image as "image"'],
    [
      [
        'search',
        ['k', 'mode', 'where'],
        [
          { name: 'image', file: png },
          { name: 'color', value: 'x' },
        ],
      ],
      'unknown field "color": expected image, and k, mode, where',
    ],
    [
      ['item', ['label'], [{ name: 'label', value: 'x' }]],
      'field "image": expected an image file (multipart/form-data)',
    ],
  ];
  for (const [args, error] of cases) {
    const r = await post(...args);
    assert.equal(r.status, 400, JSON.stringify(args[2]));
    assert.equal(r.json.error, error);
  }
});
