// Optimisers (torch.optim semantics) and row-sparse gradients.

export { clearRowGrads, gatherRows, hasRowGrad, type RowGrad, takeRowGrad } from '../../tensor/row-sparse.js';
export { AdamW, type AdamWOptions } from './adamw.js';
export { Optimizer, type OptimizerStateDict, type ParamGroup } from './optimizer.js';
export { SGD, type SgdOptions } from './sgd.js';
