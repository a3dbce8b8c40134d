// Our side of bench/eval/run.ts, in its own process so that its peak memory is its own.
// Usage: node --import tsx bench/eval/ours.ts DATA_DIR float|binary THREADS K1,K2,...
// Prints one JSON line: {"seconds", "cpuSeconds", "recall", "peakRssMiB"}. The timed part mirrors reference.py:
// search (self excluded) and recall, starting from the loaded float embeddings. Float runs the public
// evaluate(); binary runs the steps evaluate() adds for binary codes (binarize, Hamming k-NN, recall).
import { binarize, knnHammingSelf } from '../../src/eval/binary.js';
import { evaluate } from '../../src/eval/evaluate.js';
import { LabelCodes } from '../../src/eval/labels.js';
import { recallAtK } from '../../src/eval/recall.js';
import { loadNpy } from '../../src/io/npy.js';
import { scope, setNumThreads } from '../../src/tensor/index.js';

const [data, mode, threads, ksText] = process.argv.slice(2);
if (!data || (mode !== 'float' && mode !== 'binary') || !threads || !ksText) {
  console.error('usage: ours.ts DATA_DIR float|binary THREADS K1,K2,...');
  process.exit(2);
}
setNumThreads(Number(threads));
const x = loadNpy(`${data}/x.npy`);
const labels = loadNpy(`${data}/labels.npy`);
const ks = ksText.split(',').map(Number);
const cpuStart = process.cpuUsage();
const start = process.hrtime.bigint();
const recall =
  mode === 'float'
    ? evaluate({ embeddings: x, labels }, { k: ks }).float.recall
    : scope(() => {
        const codes = new LabelCodes().encode(labels, 'labels');
        const neighbors = knnHammingSelf(binarize(x), Math.max(...ks));
        return recallAtK({ neighbors, queryLabels: codes, galleryLabels: codes, excludeSelf: true }, ks);
      });
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const cpu = process.cpuUsage(cpuStart);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const peakRssMiB = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ seconds, cpuSeconds, recall, peakRssMiB }));
