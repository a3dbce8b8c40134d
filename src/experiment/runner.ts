// Runs a study: one training run per grid point in OUT/<point>/ (the normal training outputs), evaluated at
// the end, then the point's result file and the study's results files (rewritten atomically after every
// point, so a partial study is readable). Run again with the same OUT, it resumes: a point with a complete
// result file is not re-run, a point that was cut short continues from its last checkpoint.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset } from '../data/types.js';
import { writeFileAtomic } from '../io/atomic.js';
import { type TrainConfig, validateConfig } from '../train/config.js';
import { type EpochRecord, readMetrics } from '../train/metrics.js';
import { runSession } from '../train/session.js';
import { FailureError, UsageError } from '../util/errors.js';
import { type StudyGrid, type StudyName, type StudyPoint, studyGrid } from './grids.js';
import { studyPlotSvg } from './plot.js';
import {
  POINT_RESULT,
  type PointResult,
  readPointResult,
  resultsMarkdown,
  type StudyResults,
  type StudyRow,
} from './results.js';

export interface StudyOptions {
  study: StudyName;
  /** The base training config (budget.ts), before the grid's settings. */
  base: TrainConfig;
  budget: string;
  /** The data set, loaded once for all points. */
  dataset: Dataset;
  out: string;
  log?: (line: string) => void;
  /** No progress bars. */
  silent?: boolean;
}

/** Config keys that do not change what a point computes (where it is, how fast): a resumed point may differ. */
const INCIDENTAL: readonly string[] = ['out', 'root', 'threads', 'workers', 'device', 'skipBadImages', 'evalEvery'];

/** The first key whose value differs between a point's saved and planned configuration, or null. */
export function configDifference(saved: Partial<TrainConfig>, planned: TrainConfig): string | null {
  for (const key of Object.keys(planned)) {
    if (INCIDENTAL.includes(key)) continue;
    const a = JSON.stringify((saved as Record<string, unknown>)[key]);
    const b = JSON.stringify((planned as unknown as Record<string, unknown>)[key]);
    if (a !== b) return `${key} = ${a ?? 'unset'} there, ${b} now`;
  }
  return null;
}

export function pointConfig(base: TrainConfig, point: StudyPoint, out: string): TrainConfig {
  return validateConfig({ ...base, k: [...base.k], ...point.overrides, out: join(out, point.name) });
}

/** Refuses to mix runs of different configurations in one OUT folder. */
function checkSameConfig(dir: string, planned: TrainConfig, saved: Partial<TrainConfig> | null): void {
  if (!saved) return;
  const diff = configDifference(saved, planned);
  if (diff) {
    throw new UsageError(
      `--out: ${dir} was run with another configuration (${diff}); use another --out or delete that folder`,
    );
  }
}

function savedConfig(dir: string): Partial<TrainConfig> | null {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Partial<TrainConfig>;
  } catch {
    return null; // cut short while written: the run starts again
  }
}

export async function runStudy(o: StudyOptions): Promise<StudyResults> {
  const log = o.log ?? ((line: string) => console.error(line));
  const train = o.dataset.splits.train ?? [];
  const numClasses = new Set(train.map((s) => s.label)).size;
  const grid = studyGrid(o.study, { base: o.base, numClasses });
  const results: StudyResults = {
    study: o.study,
    dataset: o.base.dataset,
    budget: o.budget,
    variable: grid.variable,
    points: grid.points.length,
    base: o.base,
    rows: [],
  };
  mkdirSync(o.out, { recursive: true });
  const planned = grid.points.map((p) => pointConfig(o.base, p, o.out));
  const n = grid.points.length;
  log(
    `study ${o.study} on ${o.base.dataset} (${o.budget} budget): ${grid.title}, ${n} point${n === 1 ? '' : 's'} in ${o.out}`,
  );
  // Every folder is checked before anything trains, so a wrong --out fails at once.
  const finished = planned.map((config) => {
    const done = readPointResult(join(config.out, POINT_RESULT));
    checkSameConfig(config.out, config, done ? done.config : savedConfig(config.out));
    return done;
  });
  for (const [i, point] of grid.points.entries()) {
    const config = planned[i] as TrainConfig;
    const dir = config.out;
    const tag = `[${i + 1}/${n}] ${point.name}`;
    const done = finished[i];
    if (done) {
      results.rows.push(done.row);
      log(`${tag}: finished before: ${rowLine(done.row)}`);
      continue;
    }
    const checkpoint = join(dir, 'last.safetensors');
    const resume = existsSync(checkpoint) ? checkpoint : undefined;
    // Steps of an epoch cut short before its checkpoint: the run starts over, so its metrics do too.
    if (!resume) rmSync(join(dir, 'metrics.jsonl'), { force: true });
    log(`${tag}: ${resume ? `resuming from ${checkpoint}` : `training in ${dir}`}`);
    const row = await runPoint(o, point, config, resume, log);
    const result: PointResult = { row, config };
    writeFileAtomic(join(dir, POINT_RESULT), `${JSON.stringify(result, null, 2)}\n`);
    results.rows.push(row);
    await writeStudyResults(o.out, results, grid);
    log(`${tag}: ${rowLine(row)}`);
  }
  await writeStudyResults(o.out, results, grid);
  return results;
}

async function runPoint(
  o: StudyOptions,
  point: StudyPoint,
  config: TrainConfig,
  resume: string | undefined,
  log: (line: string) => void,
): Promise<StudyRow> {
  const session = await runSession(config, { dataset: o.dataset, resume, log, silent: o.silent });
  session.model.dispose();
  const evaluation = session.state.lastEval;
  if (!evaluation?.binary) throw new FailureError(`${config.out}: the run ended without a final evaluation`);
  const epochs = readMetrics(join(config.out, 'metrics.jsonl')).filter((r): r is EpochRecord => r.type === 'epoch');
  const trainSeconds = epochs.reduce((sum, r) => sum + r.seconds, 0);
  const steps = session.state.step;
  return {
    point: point.name,
    setting: point.setting,
    float: evaluation.float,
    binary: evaluation.binary,
    trainSeconds,
    stepSeconds: steps > 0 ? trainSeconds / steps : 0,
    steps,
    epochs: session.state.epochsDone,
  };
}

/** results.json, results.md and results.svg, each written atomically. */
export async function writeStudyResults(out: string, r: StudyResults, grid: StudyGrid): Promise<void> {
  writeFileAtomic(join(out, 'results.json'), `${JSON.stringify(r, null, 2)}\n`);
  writeFileAtomic(join(out, 'results.md'), resultsMarkdown(r, grid));
  writeFileAtomic(join(out, 'results.svg'), await studyPlotSvg(r, grid));
}

function rowLine(row: StudyRow): string {
  const r1 = (v: number | undefined) => (v === undefined ? '?' : v.toFixed(2));
  return (
    `R@1 float ${r1(row.float.recall['1'])} binary ${r1(row.binary.recall['1'])}, ` +
    `train ${row.trainSeconds.toFixed(1)} s (${(1000 * row.stepSeconds).toFixed(1)} ms/step)`
  );
}
