// The pre-1.6 torch.save formats: the pickle format (PyTorch 0.1.10-1.5, Cadene's BN-Inception) and the tar
// format (PyTorch 0.1.x, torchvision's 2017 ResNet files). Fixtures by tools/golden/legacy_pth.py, each
// loadable one checked there with torch.load, which also gave every expected value.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadPth, parsePth } from '../../src/io/pth.js';
import { loadWeights } from '../../src/io/weights.js';
import { createEmbedder } from '../../src/nn/index.js';
import { Generator, noGrad, randn, scope, type Tensor } from '../../src/tensor/index.js';
import { maxAbsDiff } from '../helpers/golden.js';
import { referenceSkip, runReference } from '../helpers/reference-python.js';
import { assertFormatError, assertRecord, type ExpectedTensor } from './expected.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'legacy-pth');
const fixture = (name: string) => join(DIR, name);
const expected = JSON.parse(readFileSync(fixture('expected.json'), 'utf8')) as Record<
  string,
  Record<string, ExpectedTensor>
>;

describe('legacy torch.save files: every tensor as torch.load gives it', () => {
  const cases: [string, string][] = [
    [
      'pickle-state-dict.pth',
      'pickle format, an OrderedDict state dict: BatchNorm with int64 num_batches_tracked 2^40+3, a transposed view, two views into one storage at offsets 2 and 8 (stride 3), float64/float16/int32/uint8/bool',
    ],
    ['pickle-plain-dict.pth', 'pickle format, a plain dict of float32 and int64'],
    ['pickle-storage-view.pth', 'pickle format, a persistent id naming a view (offset 3, 5 values) of a storage'],
    [
      'tar-state-dict.pth',
      'tar format, an OrderedDict: one storage shared by four tensors at offsets with transposed and step strides, int64 0-d and 1-d, a storage view whose own record is zeros',
    ],
    ['tar-plain-dict.pth', 'tar format, a plain dict of float32 and int64 views at offsets'],
    [
      'pickle-python2.pth',
      "pickle format as Python 2 and PyTorch 0.3 wrote it: str keys as BINSTRING, OrderedDict from pairs, _rebuild_tensor, a 'cuda:0' storage",
    ],
    ['tar-python2.pth', 'tar format as Python 2 wrote it: BINSTRING keys, OrderedDict from pairs'],
  ];
  for (const [file, what] of cases) {
    test(`${file}: ${what}`, () => {
      const want = expected[file];
      assert.ok(want && Object.keys(want).length > 0, `expected.json has ${file}`);
      scope(() => assertRecord(loadPth(fixture(file)), want, file));
    });
  }

  test('loadWeights tells both legacy formats apart from zip and safetensors', () =>
    scope(() => {
      for (const file of ['pickle-plain-dict.pth', 'tar-plain-dict.pth']) {
        assertRecord(loadWeights(fixture(file)), expected[file] as Record<string, ExpectedTensor>, file);
      }
    }));
});

describe('legacy torch.save files we refuse, in one line naming the file', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'legacy-pth-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  for (const format of ['pickle', 'tar']) {
    test(`${format} format: a whole pickled model, not a state_dict`, () => {
      const path = fixture(`${format}-model.pth`);
      assertFormatError(() => loadPth(path), path, "'__main__.Small' is not allowed", 'state_dict()');
    });

    test(`${format} format: written on a big-endian machine (sys_info little_endian False)`, () => {
      const path = fixture(`${format}-big-endian.pth`);
      assertFormatError(() => loadPth(path), path, 'big-endian', 'little_endian is False');
    });
  }

  test('pickle format: truncated in the storage bytes, in the key list, in the object', () => {
    const bytes = readFileSync(fixture('pickle-state-dict.pth'));
    assertFormatError(() => parsePth(bytes.subarray(0, bytes.length - 3), 'cut.pth'), 'cut.pth', 'truncated');
    const cut = parsePth.bind(null, bytes.subarray(0, 600), 'cut.pth');
    assertFormatError(cut, 'cut.pth', 'truncated');
    assertFormatError(() => parsePth(bytes.subarray(0, 20), 'cut.pth'), 'cut.pth: ');
  });

  test('pickle format: a storage whose recorded size disagrees with the pickle', () => {
    const bytes = Uint8Array.from(readFileSync(fixture('pickle-storage-view.pth')));
    // The one storage (10 float32 values) is the last 8 + 40 bytes.
    const at = bytes.length - 48;
    assert.equal(new DataView(bytes.buffer).getBigInt64(at, true), 10n);
    new DataView(bytes.buffer).setBigInt64(at, 9n, true);
    assertFormatError(
      () => parsePth(bytes, 'edited.pth'),
      "storage '100' has 9 values in the file, but the pickle says 10",
    );
  });

  test('tar format: truncated, a corrupt header, a tar that is not a torch.save file', () => {
    const bytes = readFileSync(fixture('tar-state-dict.pth'));
    assertFormatError(() => parsePth(bytes.subarray(0, 1500), 'cut.pth'), 'cut.pth', 'truncated');
    const bad = Uint8Array.from(bytes);
    bad[10] = 0x41;
    assertFormatError(() => parsePth(bad, 'bad.pth'), 'bad.pth', 'tar header at byte 0 has a bad checksum');
    const other = join(tmp, 'other.tar');
    writeOtherTar(other);
    assertFormatError(() => loadPth(other), other, "without a 'storages' entry: not a torch.save file");
  });
});

/** A valid ustar archive holding one text file, written by hand (no tar binary needed). */
function writeOtherTar(path: string): void {
  const header = new Uint8Array(512);
  const put = (at: number, text: string) => header.set(new TextEncoder().encode(text), at);
  put(0, 'readme.txt');
  put(100, '0000644\0');
  put(108, '0000000\0');
  put(116, '0000000\0');
  put(124, '00000000002\0');
  put(136, '00000000000\0');
  put(156, '0');
  put(257, 'ustar\x0000');
  put(148, '        ');
  const sum = header.reduce((a, b) => a + b, 0);
  put(148, `${sum.toString(8).padStart(6, '0')}\0 `);
  const body = new Uint8Array(512);
  body.set([0x68, 0x69]);
  writeFileSync(path, Buffer.concat([header, body, new Uint8Array(1024)]));
}

const skip = referenceSkip(['torch', 'torchvision'], 'the real-size legacy resnet18 check');

describe('a real-size state dict in each format', { skip }, () => {
  test('resnet18 saved as zip, legacy pickle and legacy tar: identical tensors and forward passes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'legacy-resnet18-'));
    try {
      runReference([join(import.meta.dirname, '..', '..', 'tools', 'golden', 'legacy_pth.py'), '--resnet18', dir]);
      scope(() =>
        noGrad(() => {
          const input = randn([2, 3, 64, 64], { generator: new Generator(5) });
          const outputs = ['zip', 'pickle', 'tar'].map((format) => {
            const weights = loadWeights(join(dir, `resnet18-${format}.pth`));
            const e = createEmbedder({ arch: 'resnet18', dim: 512 });
            try {
              e.loadBackboneWeights(weights);
              return { weights, out: e.eval().forward(input) };
            } finally {
              e.dispose();
            }
          });
          const [zip, ...legacy] = outputs as { weights: Record<string, Tensor>; out: Tensor }[];
          assert.equal(Object.keys(zip!.weights).length, 122);
          for (const [i, other] of legacy.entries()) {
            assert.deepEqual(Object.keys(other.weights), Object.keys(zip!.weights));
            for (const [k, t] of Object.entries(zip!.weights)) {
              assert.equal(maxAbsDiff(other.weights[k] as Tensor, t), 0, `${['pickle', 'tar'][i]} ${k}`);
            }
            assert.equal(maxAbsDiff(other.out, zip!.out), 0, `${['pickle', 'tar'][i]} forward`);
          }
        }),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
