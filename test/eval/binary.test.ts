import assert from 'node:assert/strict';
import { test } from 'node:test';
import { binarize, knnHamming, knnHammingSelf, storageReport } from '../../src/eval/binary.js';
import { recallAtK } from '../../src/eval/recall.js';
import { scope, type Tensor, tensor } from '../../src/tensor/index.js';
import { loadGoldenJson } from '../helpers/golden.js';

const golden = loadGoldenJson('eval-binary.json');
const g = (name: string) => golden.tensors[name] as Tensor;

test('bits are (x > 0), little-endian within each byte, the last byte padded with zeros', () => {
  scope(() => {
    // dims 0..9: + - 0 + - - - + | + 0  -> byte 0 = bits 0, 3, 7 = 1 + 8 + 128; byte 1 = bit 0 = 1
    const codes = binarize(tensor([[1, -1, 0, 2, -3, -0.5, -1, 0.1, 5, 0]]));
    assert.equal(codes.dtype, 'uint8');
    assert.deepEqual(codes.shape, [1, 2]);
    assert.deepEqual(codes.toArray(), [137, 1]);
    // numpy.packbits(x > 0, bitorder='little') on 44 dims, as faiss' binary indexes take them.
    assert.deepEqual(binarize(g('small')).toArray(), g('small_codes').toArray());
  });
});

test('Hamming k-NN distances equal faiss IndexBinaryFlat, ties in ascending gallery index', () => {
  scope(() => {
    const k = golden.extra.k as number;
    const codes = g('small_codes');
    const nb = knnHamming(codes.narrow(0, 0, 40), codes, k);
    assert.deepEqual([...nb.keys], g('small_D').toArray());
    const distances = [...nb.keys];
    for (let p = 1; p < nb.indices.length; p++) {
      if (p % k !== 0 && distances[p] === distances[p - 1]) {
        assert.ok((nb.indices[p] as number) > (nb.indices[p - 1] as number), `tie at ${p} not in index order`);
      }
    }
  });
});

test('binary self retrieval reproduces faiss recall and neighbours (self excluded)', () => {
  scope(() => {
    const k = golden.extra.k as number;
    for (const tileSize of [4096, 17]) {
      const nb = knnHammingSelf(g('codes'), k, { tileSize });
      assert.deepEqual([...nb.keys], g('self_D').toArray());
      const labels = g('labels').toArray();
      const recall = recallAtK(
        { neighbors: nb, queryLabels: labels, galleryLabels: labels, excludeSelf: true },
        [1, 2, 4, 8],
      );
      assert.deepEqual(recall, golden.extra.recall_self);
    }
  });
});

test('Hamming ties are broken by gallery index, whatever the code layout', () => {
  scope(() => {
    // Query 0b0000_0001; gallery distances: [1, 1, 0, 2, 1, 0, 1] -> order 2, 5, 0, 1, 4, 6, 3.
    const gallery = tensor(Uint8Array.of(0, 3, 1, 7, 0b10001, 1, 0b100001), { shape: [7, 1] });
    const nb = knnHamming(tensor(Uint8Array.of(1), { shape: [1, 1] }), gallery, 7);
    assert.deepEqual([...nb.indices], [2, 5, 0, 1, 4, 6, 3]);
    assert.deepEqual([...nb.keys], [0, 0, 1, 1, 1, 1, 2]);
    // Self retrieval of identical codes: every other item ties at 0, in index order.
    const same = tensor(new Uint8Array(5 * 70).fill(0xa5), { shape: [5, 70] });
    const self = knnHammingSelf(same, 4);
    assert.deepEqual([...self.indices], [1, 2, 3, 4, 0, 2, 3, 4, 0, 1, 3, 4, 0, 1, 2, 4, 0, 1, 2, 3]);
  });
});

test('codes of 70 bytes: the vector kernel and its byte tail agree with a direct count', () => {
  scope(() => {
    const bytes = 70;
    const n = 9;
    const data = Uint8Array.from({ length: n * bytes }, (_, i) => (i * 2654435761) >>> 24);
    const codes = tensor(data, { shape: [n, bytes] });
    const nb = knnHamming(codes, codes, n);
    const popcount = (v: number) => v.toString(2).split('1').length - 1;
    for (let i = 0; i < n; i++) {
      for (let r = 0; r < n; r++) {
        const j = nb.indices[i * n + r] as number;
        let d = 0;
        for (let b = 0; b < bytes; b++)
          d += popcount((data[i * bytes + b] as number) ^ (data[j * bytes + b] as number));
        assert.equal(nb.keys[i * n + r], d);
      }
    }
  });
});

test('storage: 2048 floats take 8 KiB, their code 256 bytes', () => {
  assert.deepEqual(storageReport(2048), { dimension: 2048, floatBytes: 8192, binaryBytes: 256, ratio: 32 });
  assert.equal(storageReport(44).binaryBytes, 6);
});

test('Hamming k-NN validates its inputs', () => {
  scope(() => {
    const codes = tensor(Uint8Array.of(1, 2, 3, 4), { shape: [2, 2] });
    assert.throws(() => knnHammingSelf(codes, 2), /k = 2 exceeds the 1 gallery items/);
    assert.throws(
      () => knnHamming(codes, tensor(Uint8Array.of(1, 2, 3), { shape: [1, 3] }), 1),
      /2 bytes, gallery codes 3/,
    );
    assert.throws(() => knnHamming(tensor([[1, 2]]), codes, 1), /uint8 codes/);
  });
});
