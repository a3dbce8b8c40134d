// Pairwise Euclidean distances within a batch, computed as TF-addons' pairwise_distance so that
// semi-hard mining sees the same numbers: squared distances from the Gram matrix, clamped at 0; exact
// zeros get a 1e-16 floor inside the sqrt (finite gradient) and are then zeroed, as is the diagonal.
import { eye, type Tensor } from '../tensor/index.js';

export function pairwiseDistance(x: Tensor, squared = false): Tensor {
  const sq = x.square().sum(1, true);
  const d2 = sq.add(sq.T).sub(x.mm(x.T), 2).clamp(0);
  const zero = d2.le(0);
  const zeroF = zero.to(d2.dtype);
  const d = squared ? d2 : d2.add(zeroF.mul(1e-16)).sqrt();
  const offDiagonal = eye(x.size(0), { dtype: d2.dtype, device: x.device }).rsub(1);
  return d.mul(zeroF.rsub(1)).mul(offDiagonal);
}
