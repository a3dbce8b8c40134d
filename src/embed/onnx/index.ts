// ONNX export of embedders (docs/onnx.md).

export { exportOnnx, type OnnxExportOptions, writeOnnx } from './export.js';
export { type ExportedFile, type ExportFileOptions, exportCheckpoint, sha256File } from './export-file.js';
export { type Identity, INPUT_NAME, OUTPUT_NAME, type Preprocessing, preprocessingOf } from './metadata.js';
export { DEFAULT_OPSET, MAX_OPSET, MIN_OPSET, parseOpset } from './opset.js';
