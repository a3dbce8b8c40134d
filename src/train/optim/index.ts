// Optimisers (torch.optim semantics) and row-sparse gradients.
export { AdamW, type AdamWOptions } from './adamw.js';
export { Optimizer, type OptimizerStateDict, type ParamGroup } from './optimizer.js';
export { clearRowGrads, gatherRows, hasRowGrad, type RowGrad, takeRowGrad } from './row-sparse.js';
export { SGD, type SgdOptions } from './sgd.js';
