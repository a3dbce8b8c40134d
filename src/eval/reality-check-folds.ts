// Whether the models of a Reality Check come from the distinct folds of one class split: what each
// checkpoint's training config says (train --folds N --fold I). Problems are warnings: the numbers can
// still be computed, but they are not the protocol's.

/** What a model's file says about how it was trained; null for a file without a training config. */
export interface ModelFold {
  source: string;
  config: { dataset?: unknown; folds?: unknown; fold?: unknown } | null;
}

export function foldWarnings(models: readonly ModelFold[], evalDataset?: string): string[] {
  const warnings: string[] = [];
  const withFolds: { source: string; dataset: unknown; folds: number; fold: number }[] = [];
  for (const m of models) {
    const c = m.config;
    if (c === null) {
      warnings.push(`${m.source}: not a normsoftmax training checkpoint, its fold is unknown`);
      continue;
    }
    if (evalDataset !== undefined && c.dataset !== undefined && c.dataset !== evalDataset) {
      warnings.push(`${m.source}: trained on ${String(c.dataset)}, evaluated on ${evalDataset}`);
    }
    const folds = typeof c.folds === 'number' ? c.folds : 0;
    const fold = typeof c.fold === 'number' ? c.fold : 0;
    if (folds < 2) {
      if (models.length > 1) warnings.push(`${m.source}: not trained on a fold (train --folds N --fold I)`);
      continue;
    }
    withFolds.push({ source: m.source, dataset: c.dataset, folds, fold });
  }
  if (models.length < 2 || withFolds.length === 0) return warnings;
  const splits = new Set(withFolds.map((m) => `${String(m.dataset)} with ${m.folds} folds`));
  if (splits.size > 1) {
    warnings.push(`the checkpoints come from different fold splits (${[...splits].join('; ')})`);
    return warnings;
  }
  const seen = new Map<number, string>();
  for (const m of withFolds) {
    const first = seen.get(m.fold);
    if (first !== undefined) warnings.push(`${m.source} and ${first} were both trained for fold ${m.fold}`);
    else seen.set(m.fold, m.source);
  }
  const folds = (withFolds[0] as { folds: number }).folds;
  if (warnings.length === 0 && seen.size < folds) {
    const missing = [...Array(folds).keys()].filter((f) => !seen.has(f));
    warnings.push(`no model of fold ${missing.join(', ')} of ${folds}: the protocol uses one model per fold`);
  }
  return warnings;
}
