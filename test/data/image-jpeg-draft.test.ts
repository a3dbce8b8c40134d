// Draft decoding (transform.jpegDraft): JPEGs decoded at 1/2, 1/4 or 1/8 of their size where that still
// covers the resize, as Pillow's Image.draft(mode, size) does: the same scale, the same pixels, and the
// same resized image; through the loader's decode workers too.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeImage } from '../../src/data/image/decode.js';
import { draftScale } from '../../src/data/image/draft.js';
import { resizeBilinear } from '../../src/data/image/kernels.js';
import { jpegFrame } from '../../src/data/image/sniff.js';
import { loadPixels } from '../../src/data/image/source.js';
import { IMAGENET_TRANSFORM, type TransformConfig } from '../../src/data/image/transform-config.js';
import { BatchLoader } from '../../src/data/loader/batch-loader.js';
import { processPixels } from '../../src/data/loader/process-image.js';
import { GOLDEN_DIR } from '../helpers/golden.js';
import { referenceSkip, runReference } from '../helpers/reference-python.js';
import { needsInstalled } from '../helpers/skip.js';

const DIR = join(GOLDEN_DIR, 'pipeline');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const HEADERS = needsInstalled(
  !existsSync('/usr/include/jpeglib.h') && 'no /usr/include/jpeglib.h (Debian: apt-get install libjpeg62-turbo-dev)',
);

test("draftScale is Pillow's: the largest of 8, 4, 2, 1 within min(W // w, H // h)", () => {
  const size = (width: number, height: number) => ({ width, height });
  assert.equal(draftScale(size(720, 540), size(128, 128)), 4); // 5 and 4
  assert.equal(draftScale(size(400, 300), size(128, 128)), 2); // 3 and 2
  assert.equal(draftScale(size(400, 300), size(256, 256)), 1);
  assert.equal(draftScale(size(4032, 3024), size(256, 256)), 8); // 15 and 11
  assert.equal(draftScale(size(1000, 200), size(100, 100)), 2); // the short side decides
  assert.equal(draftScale(size(100, 100), size(256, 256)), 1); // smaller than the target: whole
});

test('the frame header gives the size and components', () => {
  assert.deepEqual(jpegFrame(new Uint8Array(readFileSync(join(DIR, 'large.jpg')))), {
    components: 3,
    width: 720,
    height: 540,
  });
  assert.equal(jpegFrame(new Uint8Array([0x89, 0x50, 0x4e, 0x47])), null);
});

test("draft decoding and the resize after it equal Pillow's draft() + resize, byte for byte", {
  skip: HEADERS || referenceSkip(['PIL'], 'the comparison with Pillow'),
}, async () => {
  const cases = [
    ['large.jpg', 128], // 1/4
    ['large.jpg', 256], // 1/2
    ['photo.jpg', 128], // 1/2
    ['photo.jpg', 256], // whole
    ['gray.jpg', 100],
  ] as const;
  const script = `import sys, hashlib, json
from PIL import Image
out = []
for arg in sys.argv[1:]:
    path, t = arg.rsplit(':', 1)
    t = int(t)
    im = Image.open(path)
    im.draft('RGB', (t, t))
    im = im.convert('L' if im.mode == 'L' else 'RGB')
    r = im.resize((t, t), Image.BILINEAR)
    out.append([im.size[0], im.size[1], hashlib.sha256(im.tobytes()).hexdigest(), hashlib.sha256(r.tobytes()).hexdigest()])
print(json.dumps(out))`;
  const pil = JSON.parse(runReference(['-c', script, ...cases.map(([n, t]) => `${join(DIR, n)}:${t}`)])) as [
    number,
    number,
    string,
    string,
  ][];
  for (const [i, [name, t]] of cases.entries()) {
    const bytes = new Uint8Array(readFileSync(join(DIR, name)));
    const decoded = await decodeImage(bytes, name, { draftTo: { width: t, height: t } });
    const channels = decoded.channels as 1 | 3;
    const resized = resizeBilinear({ ...decoded, channels }, t, t);
    assert.deepEqual(
      [decoded.width, decoded.height, sha(decoded.data), sha(resized.data)],
      pil[i],
      `${name} drafted to ${t}`,
    );
  }
});

test('jpegDraft reaches the decode workers: the loader gives the draft pixels, not the full decode', {
  skip: HEADERS,
}, async () => {
  const path = join(DIR, 'large.jpg');
  const small: TransformConfig = {
    ...IMAGENET_TRANSFORM,
    resize: { width: 128, height: 128 },
    crop: { width: 112, height: 112 },
  };
  const load = async (transform: TransformConfig) => {
    const loader = new BatchLoader({ dataset: {}, samples: [{ path, label: 0 }], transform, mode: 'eval', workers: 1 });
    try {
      for await (const b of loader.batches([[0]])) {
        const values = b.images.toTypedArray() as Float32Array;
        b.dispose();
        return values;
      }
    } finally {
      await loader.close();
    }
    throw new Error('no batch');
  };
  const draft = await load({ ...small, jpegDraft: true });
  const whole = await load(small);
  const expected = (draftTo?: { width: number; height: number }) =>
    loadPixels({ path, label: 0 }, undefined, 3, { draftTo }).then(
      (pixels) =>
        processPixels(path, pixels, { config: small, mode: 'eval', draws: [0, 0, 0], keepResized: false }).chw,
    );
  assert.deepEqual(draft, await expected({ width: 128, height: 128 }));
  assert.deepEqual(whole, await expected());
  assert.notDeepEqual(draft, whole);
});
