// Run by onnx-engine.test.ts, as an unprivileged user (root writes into a read-only folder): the ONNX cache
// of the smallcnn checkpoint argv[2], asked for twice. Prints where it went and whether each call exported.
import { cachedOnnx } from '../../../src/embed/onnx-cache.js';

const weights = process.argv[2] as string;
const first = cachedOnnx(weights, { arch: 'smallcnn', dim: 8 });
const second = cachedOnnx(weights, { arch: 'smallcnn', dim: 8 });
console.log(JSON.stringify({ path: first.path, exported: [first.exported, second.exported] }));
