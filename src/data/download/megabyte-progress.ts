// Transfer progress in whole megabytes through the shared progress display (data sets and weights).
import { createProgress, type Progress } from '../../util/progress.js';
import type { TransferProgress } from './resumable.js';

export function megabyteProgress(label: string): TransferProgress {
  const MB = 1024 * 1024;
  let bar: Progress | undefined;
  return {
    start(total) {
      bar = total === undefined ? undefined : createProgress({ label: `${label} (MB)`, total: Math.ceil(total / MB) });
    },
    update(received) {
      bar?.update(Math.floor(received / MB));
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
