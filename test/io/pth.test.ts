// torch.save checkpoints: files written by PyTorch (every storage dtype, strided and shared views,
// module state dicts, training checkpoints, protocol 4, deflated entries) and the files we refuse.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { loadPth, parsePth } from '../../src/io/pth.js';
import { scope, type Tensor } from '../../src/tensor/index.js';
import { torchZip, zipStored } from './build-bytes.js';
import { assertFormatError, assertRecord, expectedFor, fixture } from './expected.js';

const floats = (...values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

describe('.pth files from PyTorch', () => {
  const cases: [string, string][] = [
    ['dtypes.pth', 'every storage dtype with specials, int64 beyond 2^53, 0-d and empty tensors'],
    ['views.pth', 'transposed, step-sliced, expanded (stride 0), permuted views and two views of one storage'],
    ['module.pth', 'an nn.Module state dict with BatchNorm buffers and int64 num_batches_tracked'],
    ['checkpoint.pth', "a training checkpoint: 'state_dict' unwrapped, DataParallel 'module.' stripped"],
    ['model_key.pth', "a checkpoint with 'model' holding nested dicts and a list"],
    ['protocol4.pth', 'pickle protocol 4 (frames, memoize, stack globals)'],
    ['deflate.pth', 'the same archive with DEFLATE-compressed entries'],
  ];
  for (const [file, what] of cases) {
    test(`${file}: ${what}`, () => scope(() => assertRecord(loadPth(fixture(file)), expectedFor(file), file)));
  }

  test('tensors that shared a storage are independent copies', () =>
    scope(() => {
      const { shared_a: a, shared_b: b } = loadPth(fixture('views.pth')) as Record<string, Tensor>;
      (a as Tensor).mul_(0);
      assert.deepEqual((b as Tensor).toArray(), [5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    }));
});

describe('TorchScript archives (torch.jit.save, as OpenAI ships CLIP)', () => {
  test('a scripted nn.Linear: its parameters as state_dict() names them, the values torch.jit.load reads', () =>
    scope(() => {
      const t = loadPth(fixture('torchscript.pt'));
      assert.deepEqual(Object.keys(t), ['weight', 'bias']);
      // torch.jit.load('torchscript.pt').state_dict() in PyTorch 1.13.
      const want = {
        weight: [0.14275836944580078, -0.20191146433353424, -0.6133638620376587, -0.4604310393333435],
        bias: [0.288837730884552, 0.27982091903686523],
      };
      assert.deepEqual((t.weight as Tensor).shape, [2, 2]);
      assert.deepEqual((t.weight as Tensor).toArray(), want.weight);
      assert.deepEqual((t.bias as Tensor).toArray(), want.bias);
    }));
});

describe('.pth files we refuse', () => {
  test('a pickle that calls os.system is rejected before anything runs', () => {
    assertFormatError(() => loadPth(fixture('malicious.pth')), "pickle global 'os.system' is not allowed");
    assert.equal(existsSync('/tmp/pwnd'), false);
  });

  test('a checkpoint holding other Python objects names the global', () => {
    assertFormatError(() => loadPth(fixture('namespace.pth')), "'argparse.Namespace' is not allowed", 'state_dict()');
  });

  test('a TorchScript archive whose pickle names os.system: refused before anything runs', () => {
    const evil = zipStored({
      'm/data.pkl': Uint8Array.from('\x80\x02cos\nsystem\nX\x0f\x00\x00\x00touch /tmp/pwnd\x85R.', (c) =>
        c.charCodeAt(0),
      ),
      'm/constants.pkl': new Uint8Array([0x80, 0x02, 0x29, 0x2e]),
      'm/version': '3\n',
    });
    assertFormatError(() => parsePth(evil, 'evil.pt'), "pickle global 'os.system' is not allowed");
    assert.equal(existsSync('/tmp/pwnd'), false);
  });

  test('a TorchScript archive whose data.pkl holds no module', () => {
    const bare = zipStored({
      'm/data.pkl': new Uint8Array([0x80, 0x02, 0x7d, 0x2e]), // {}
      'm/constants.pkl': new Uint8Array([0x80, 0x02, 0x29, 0x2e]),
    });
    assertFormatError(() => parsePth(bare, 'bare.pt'), 'is a TorchScript archive without a module in its data.pkl');
  });

  test('a truncated file', () => {
    const bytes = readFileSync(fixture('module.pth'));
    assertFormatError(
      () => parsePth(bytes.subarray(0, bytes.length >> 1), 'half.pth'),
      'half.pth: not a zip archive, or truncated',
    );
  });

  test('a zip that is not a checkpoint', () => {
    assertFormatError(() => parsePth(zipStored({ 'readme.txt': 'hi' })), 'without exactly one <name>/data.pkl');
    assertFormatError(() => parsePth(new TextEncoder().encode('hello')), 'not a PyTorch checkpoint');
  });

  test('a view reaching outside its storage', () => {
    const bytes = torchZip(
      { w: { key: '0', numel: 4, offset: 2, size: [3], stride: [1] } },
      { '0': floats(1, 2, 3, 4) },
    );
    assertFormatError(
      () => parsePth(bytes),
      "tensor 'w' (size [3], stride [1], offset 2) reaches outside its storage of 4 values",
    );
  });

  test('a storage record shorter than its numel, or missing', () => {
    const short = torchZip({ w: { key: '0', numel: 4, offset: 0, size: [4], stride: [1] } }, { '0': floats(1, 2, 3) });
    assertFormatError(() => parsePth(short), "storage '0' has 12 bytes, but its 4 float32 values need 16");
    const missing = torchZip({ w: { key: '7', numel: 1, offset: 0, size: [1], stride: [1] } }, {});
    assertFormatError(() => parsePth(missing), "storage '7' is missing (no archive/data/7 in the zip)");
  });

  test('a hand-made archive in the same format reads back', () =>
    scope(() => {
      const bytes = torchZip(
        {
          a: { key: '0', numel: 6, offset: 1, size: [2, 2], stride: [1, 2] },
          b: { key: '0', numel: 6, offset: 0, size: [3], stride: [2] },
        },
        { '0': floats(0, 1, 2, 3, 4, 5) },
      );
      const { a, b } = parsePth(bytes) as Record<string, Tensor>;
      assert.deepEqual((a as Tensor).toArray(), [1, 3, 2, 4]);
      assert.deepEqual((b as Tensor).toArray(), [0, 2, 4]);
    }));
});
