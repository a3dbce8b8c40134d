// The optimiser state a resumed phase loads. Checkpoints name each optimiser parameter (meta.optimizerParams),
// so a state saved under one grouping of the parameters is moved onto this run's by name. Checkpoints from
// before the names were written hold either this run's layout (loaded as it is) or the layout from before
// AdamW's parameter groups (weight decay on weights only, layer decay): one group per phase, the backbone's
// parameters then the new ones (warm-up: the new ones alone). That state is mapped onto this run's groups
// parameter by parameter, and the run says so in one line. Mapping, not a fresh state, because SGD's and
// AdamW's state (momentum; exp_avg, exp_avg_sq, step) belongs to each parameter, not to its group, so the
// mapped state is exactly the one the run had; a fresh AdamW would restart its bias correction with zero
// second moments, whose first steps move every weight by about lr, a jolt to a model being fine-tuned.
import type { Tensor } from '../tensor/index.js';
import { InputError } from '../util/errors.js';
import type { Checkpoint } from './checkpoint.js';
import type { Optimizer, OptimizerStateDict } from './optim/optimizer.js';
import { remapOptimizerState } from './optim/remap-state.js';

export interface OptimizerResume {
  /** The optimiser of the resumed phase, fresh (its groups are this run's). */
  optimizer: Optimizer;
  checkpoint: Checkpoint;
  /** Each parameter's name (the model's state-dict key, or loss.<name>). */
  nameOf: ReadonlyMap<Tensor, string>;
  /** The phase's parameters in the order of the layout before AdamW's groups, and that layout's group sizes. */
  legacy: { order: readonly Tensor[]; sizes: readonly number[] };
  log: (line: string) => void;
}

/** The names of an optimiser's parameters by index (the order of its state dict). */
export function optimizerParamNames(optimizer: Optimizer, nameOf: ReadonlyMap<Tensor, string>): string[] {
  return optimizer.groups.flatMap((g) =>
    g.params.map((p) => {
      const name = nameOf.get(p);
      if (name === undefined) throw new Error('optimizer: a parameter has no name in the model or the loss');
      return name;
    }),
  );
}

const sizesOf = (groups: readonly { params: readonly unknown[] }[]) => groups.map((g) => g.params.length).join(',');

/** The checkpoint's optimiser state in this optimiser's layout, ready for loadStateDict. */
export function optimizerStateToLoad(r: OptimizerResume): OptimizerStateDict {
  const meta = r.checkpoint.meta.optimizer;
  if (meta === null) throw new Error('optimizerStateToLoad: the checkpoint has no optimiser state');
  const dict: OptimizerStateDict = { meta, tensors: r.checkpoint.optimizer };
  const here = optimizerParamNames(r.optimizer, r.nameOf);
  const groups = r.optimizer.groups.map((g) => ({
    lrMult: g.lrMult,
    weightDecay: g.weightDecay,
    params: [] as number[],
  }));
  let next = 0;
  for (const [i, g] of r.optimizer.groups.entries()) for (const _ of g.params) groups[i]?.params.push(next++);
  const saved = r.checkpoint.meta.optimizerParams;
  if (saved) {
    const same = saved.length === here.length && saved.every((n, i) => n === here[i]);
    return same && sizesOf(meta.groups) === sizesOf(groups) ? dict : remapOptimizerState(dict, saved, here, groups);
  }
  if (sizesOf(meta.groups) === sizesOf(groups)) return dict;
  const legacySizes = r.legacy.sizes.join(',');
  if (sizesOf(meta.groups) === legacySizes) {
    const from = r.legacy.order.map((p) => r.nameOf.get(p) ?? '');
    r.log(
      `--resume: the checkpoint's ${meta.kind} state is in the layout from before AdamW's parameter groups ` +
        `(${meta.groups.length} group${meta.groups.length === 1 ? '' : 's'}): mapped onto this run's ${groups.length} parameter by parameter` +
        (meta.kind === 'adamw'
          ? '; from here on weight decay applies to weights only, not to norms, biases, tokens or positions'
          : ''),
    );
    return remapOptimizerState(dict, from, here, groups);
  }
  throw new InputError(
    `--resume: the checkpoint's optimiser state has parameter groups of sizes [${sizesOf(meta.groups)}], ` +
      `neither this run's [${sizesOf(groups)}] nor those from before AdamW's groups [${legacySizes}]`,
  );
}
