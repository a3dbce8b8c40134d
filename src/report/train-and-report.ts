// A training run as `normsoftmax train` runs it on its writing rank: the OUT folder's writer lock, the session,
// then OUT/report.html from OUT/metrics.jsonl (written atomically, before the lock is let go). The command
// and the library's train() both run this.
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { acquireWriterLock } from '../io/writer-lock.js';
import type { TrainConfig } from '../train/config.js';
import { readMetrics } from '../train/metrics.js';
import { runSession, type SessionOptions, type SessionResult } from '../train/session.js';
import { trainingReportHtml } from './training-report.js';

export const REPORT_NAME = 'report.html';

export async function trainAndReport(
  config: TrainConfig,
  o: Omit<SessionOptions, 'lock'> = {},
): Promise<SessionResult> {
  // One writer per OUT folder, until the report is written too.
  const lock = acquireWriterLock(config.out, 'train');
  try {
    const result = await runSession(config, { ...o, lock });
    const records = readMetrics(join(config.out, 'metrics.jsonl'));
    writeFileAtomic(
      join(config.out, REPORT_NAME),
      await trainingReportHtml(`normsoftmax: ${config.arch} on ${config.dataset}`, records),
    );
    return result;
  } finally {
    lock.release();
  }
}
