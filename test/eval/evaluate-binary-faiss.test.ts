// evaluate()'s binary column against faiss (issue 8, point 17): the same embeddings, binarised by the spec's
// rule (bit = x > 0) and packed as faiss' binary indexes take them (LSB first within each byte), searched with
// faiss.IndexBinaryFlat; Recall@K from faiss' Hamming distances with our documented tie rule (distance, then
// gallery index, ascending) must equal ours exactly, query set = gallery (self excluded) and query vs gallery.
//
// faiss' own fvecs2bitvecs packs LSB first too but with bit = x >= 0 (checked below), so the codes are made
// with numpy.packbits(x > 0, bitorder='little'); the embeddings hold exact zeros, where the two rules part.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { evaluate } from '../../src/eval/evaluate.js';
import { saveNpy } from '../../src/io/npy.js';
import { manualSeed, randint, randn, scope } from '../../src/tensor/index.js';
import { referenceSkip, runReference } from '../helpers/reference-python.js';

const KS = [1, 2, 4, 8, 16];
const N = 160;
const QUERIES = 60;

const SCRIPT = `
import json, sys
import faiss, numpy as np
d = sys.argv[1]
x = np.load(d + "/x.npy").astype(np.float32)
labels = np.load(d + "/labels.npy")
ks = ${JSON.stringify(KS)}

probe = np.ascontiguousarray(x[:8])
faiss_bits = np.zeros((8, (x.shape[1] + 7) // 8), dtype=np.uint8)
faiss.fvecs2bitvecs(faiss.swig_ptr(probe), faiss.swig_ptr(faiss_bits), x.shape[1], 8)
assert (faiss_bits == np.packbits(probe >= 0, axis=1, bitorder="little")).all(), "faiss packs LSB first, x >= 0"

def recall(q, g, ql, gl, exclude_self):
    index = faiss.IndexBinaryFlat(q.shape[1] * 8)
    index.add(g)
    D, I = index.search(q, g.shape[0])
    ranks = []
    for i in range(len(q)):
        ids = I[i][np.lexsort((I[i], D[i]))]
        if exclude_self:
            ids = ids[ids != i]
        hits = np.nonzero(gl[ids] == ql[i])[0]
        ranks.append(hits[0] if len(hits) else np.inf)
    ranks = np.array(ranks)
    return {str(k): float(100.0 * (ranks < k).mean()) for k in ks}

out = {}
for rule, pack in (("gt", lambda a: a > 0), ("ge", lambda a: a >= 0)):
    codes = np.packbits(pack(x), axis=1, bitorder="little")
    out[rule] = {
        "self": recall(codes, codes, labels, labels, True),
        "pair": recall(codes[:${QUERIES}], codes[${QUERIES}:], labels[:${QUERIES}], labels[${QUERIES}:], False),
    }
out["zeros"] = int((x == 0).sum())
print(json.dumps(out))
`;

const skip = referenceSkip(['faiss', 'numpy'], "the faiss check of evaluate()'s binary column");

describe("evaluate()'s binary Recall@K equals faiss IndexBinaryFlat", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'normsoftmax-binary-faiss-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('self retrieval and query vs gallery, 60 dimensions (a padded last byte), exact zeros', () => {
    scope(() => {
      manualSeed(8);
      const labels = randint(0, 12, [N]);
      const centres = randn([12, 60]);
      // Class centres plus noise, with small values set to exactly 0 (about a fifth of them).
      const raw = centres.indexSelect(0, labels).add(randn([N, 60]).mul(1.2));
      const x = raw.mul(raw.abs().gt(0.35).to('float32'));
      saveNpy(join(dir, 'x.npy'), x);
      saveNpy(join(dir, 'labels.npy'), labels);
      const want = JSON.parse(runReference(['-c', SCRIPT, dir])) as {
        gt: { self: Record<string, number>; pair: Record<string, number> };
        ge: { self: Record<string, number>; pair: Record<string, number> };
        zeros: number;
      };
      assert.ok(want.zeros > N * 6, `exact zeros in the embeddings (${want.zeros})`);
      assert.notDeepEqual(want.gt, want.ge, 'the data tell x > 0 from x >= 0');

      const self = evaluate({ embeddings: x, labels }, { k: KS, binary: true });
      assert.deepEqual(self.binary?.recall, want.gt.self);
      const pair = evaluate(
        {
          query: { embeddings: x.narrow(0, 0, QUERIES), labels: labels.narrow(0, 0, QUERIES) },
          gallery: { embeddings: x.narrow(0, QUERIES, N - QUERIES), labels: labels.narrow(0, QUERIES, N - QUERIES) },
        },
        { k: KS, binary: true },
      );
      assert.deepEqual(pair.binary?.recall, want.gt.pair);
    });
  });
});
