// Weight files published before PyTorch 1.6 (the original resnet50-19c8e357.pth is a tar archive from
// torch.save's first format; Cadene's 2017 files use the pickled-magic-number format). src/io reads only
// the zip format, so a named file in an older format is refused here with the one-time conversion to do,
// rather than after loading with a generic "not a weights file".
import { closeSync, openSync, readSync } from 'node:fs';
import { isLegacyTorchSave } from '../../io/pth.js';
import { FailureError } from '../../util/errors.js';

/** 'tar' or 'pickle' for the two pre-1.6 torch.save formats, null otherwise. */
export function legacyTorchFormat(path: string): 'tar' | 'pickle' | null {
  const head = Buffer.alloc(512);
  const fd = openSync(path, 'r');
  let n: number;
  try {
    n = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (n >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  if (isLegacyTorchSave(head.subarray(0, n))) return 'pickle';
  return null;
}

/** Refuses a named weights file in a pre-1.6 format, saying how to convert it once (to another path). */
export function refuseLegacy(name: string, path: string, flag: string): void {
  const format = legacyTorchFormat(path);
  if (format === null) return;
  const out = path.replace(/\.pth$/, '') + '-zip.pth';
  throw new FailureError(
    `${flag} ${name}: ${path} is in the pre-1.6 torch.save ${format} format, which normsoftmax cannot read yet; convert it once with PyTorch (python3 -c "import torch; torch.save(torch.load('${path}'), '${out}')") and pass ${flag} ${out}`,
  );
}
