// An optimiser state dict moved onto another grouping of the same parameters. The state of torch's SGD and
// AdamW (momentum buffer; exp_avg, exp_avg_sq and the step count) belongs to a parameter, not to its group:
// a group holds only hyper-parameters (lr multiplier, weight decay), which come from the run's config. So a
// state saved under one grouping continues exactly under another once each parameter's entries are
// renumbered to its new index; the groups are the new ones.
import type { OptimizerStateDict } from './optimizer.js';

/**
 * `dict` saved with its parameters in the order `from` (one name per index), renumbered for an optimiser
 * whose parameters are in the order `to`, with the groups `groups` (that optimiser's own). Both lists must
 * name the same parameters. The tensors are the same objects (not copied).
 */
export function remapOptimizerState(
  dict: OptimizerStateDict,
  from: readonly string[],
  to: readonly string[],
  groups: OptimizerStateDict['meta']['groups'],
): OptimizerStateDict {
  const saved = dict.meta.groups.reduce((n, g) => n + g.params.length, 0);
  if (saved !== from.length) {
    throw new Error(`optimizer state: ${saved} parameters in its groups, ${from.length} names given`);
  }
  const target = new Map(to.map((name, i) => [name, i]));
  if (target.size !== to.length || new Set(from).size !== from.length) {
    throw new Error('optimizer state: a parameter name appears twice');
  }
  const missing = from.filter((n) => !target.has(n));
  const extra = to.filter((n) => !from.includes(n));
  if (missing.length + extra.length > 0) {
    throw new Error(
      `optimizer state: the parameters differ (saved only: ${missing.join(', ') || 'none'}; here only: ${extra.join(', ') || 'none'})`,
    );
  }
  const newIndex = (i: string, what: string): number => {
    const name = from[Number(i)];
    const j = name === undefined ? undefined : target.get(name);
    if (j === undefined) throw new Error(`optimizer state: ${what} of unknown parameter ${i}`);
    return j;
  };
  const tensors: OptimizerStateDict['tensors'] = {};
  for (const [key, t] of Object.entries(dict.tensors)) {
    const m = /^state\.(\d+)\.(\w+)$/.exec(key);
    if (!m) throw new Error(`optimizer state: unexpected tensor "${key}"`);
    tensors[`state.${newIndex(m[1] as string, `"${key}"`)}.${m[2]}`] = t;
  }
  const counters: OptimizerStateDict['meta']['counters'] = {};
  for (const [i, c] of Object.entries(dict.meta.counters)) counters[newIndex(i, 'counters')] = { ...c };
  return { meta: { ...dict.meta, groups: groups.map((g) => ({ ...g, params: [...g.params] })), counters }, tensors };
}
