// Elementwise arithmetic (broadcasting), comparisons, unary maths and in-place updates.
#include "common.h"

namespace ns {

// A binary op whose second operand is a tensor or a JS number.
#define NS_BINARY(name, fn)                                                     \
  NS_FN(name, {                                                                 \
    if (isNumber(info, 1)) return at::fn(NS_T(0), NS_SCALAR(1));                \
    return at::fn(NS_T(0), NS_T(1));                                            \
  })

// add/sub take alpha: a + alpha * b
NS_FN(add, {
  auto alpha = isMissing(info, 2) ? at::Scalar(1) : NS_SCALAR(2);
  if (isNumber(info, 1)) return at::add(NS_T(0), NS_SCALAR(1), alpha);
  return at::add(NS_T(0), NS_T(1), alpha);
})
NS_FN(sub, {
  auto alpha = isMissing(info, 2) ? at::Scalar(1) : NS_SCALAR(2);
  if (isNumber(info, 1)) return at::sub(NS_T(0), NS_SCALAR(1), alpha);
  return at::sub(NS_T(0), NS_T(1), alpha);
})
NS_FN(rsub, { return at::rsub(NS_T(0), NS_SCALAR(1)); })
NS_BINARY(mul, mul)
NS_BINARY(div, div)
NS_BINARY(remainder, remainder)
NS_BINARY(eq, eq)
NS_BINARY(ne, ne)
NS_BINARY(lt, lt)
NS_BINARY(le, le)
NS_BINARY(gt, gt)
NS_BINARY(ge, ge)
NS_BINARY(bitwiseAnd, bitwise_and)
NS_BINARY(bitwiseOr, bitwise_or)
NS_BINARY(bitwiseXor, bitwise_xor)
NS_FN(pow, {
  if (isNumber(info, 1)) return at::pow(NS_T(0), NS_SCALAR(1));
  return at::pow(NS_T(0), NS_T(1));
})
NS_FN(maximum, { return at::maximum(NS_T(0), NS_T(1)); })
NS_FN(minimum, { return at::minimum(NS_T(0), NS_T(1)); })
NS_FN(logicalAnd, { return at::logical_and(NS_T(0), NS_T(1)); })
NS_FN(logicalOr, { return at::logical_or(NS_T(0), NS_T(1)); })
NS_FN(bitwiseLeftShift, { return at::bitwise_left_shift(NS_T(0), NS_SCALAR(1)); })
NS_FN(bitwiseRightShift, { return at::bitwise_right_shift(NS_T(0), NS_SCALAR(1)); })
// clamp(t, min?, max?)
NS_FN(clamp, {
  c10::optional<at::Scalar> lo, hi;
  if (!isMissing(info, 1)) lo = NS_SCALAR(1);
  if (!isMissing(info, 2)) hi = NS_SCALAR(2);
  return at::clamp(NS_T(0), lo, hi);
})

#define NS_UNARY(name, fn) NS_FN(name, { return at::fn(NS_T(0)); })
NS_UNARY(neg, neg)
NS_UNARY(exp, exp)
NS_UNARY(log, log)
NS_UNARY(log1p, log1p)
NS_UNARY(expm1, expm1)
NS_UNARY(sqrt, sqrt)
NS_UNARY(rsqrt, rsqrt)
NS_UNARY(abs, abs)
NS_UNARY(sign, sign)
NS_UNARY(sin, sin)
NS_UNARY(cos, cos)
NS_UNARY(tanh, tanh)
NS_UNARY(sigmoid, sigmoid)
NS_UNARY(floor, floor)
NS_UNARY(ceil, ceil)
NS_UNARY(round, round)
NS_UNARY(reciprocal, reciprocal)
NS_UNARY(square, square)
NS_UNARY(erf, erf)
NS_UNARY(logicalNot, logical_not)
NS_UNARY(bitwiseNot, bitwise_not)
NS_UNARY(isnan, isnan)
NS_UNARY(isfinite, isfinite)

// In-place updates (optimisers, initialisers). They return the same tensor.
NS_INPLACE(addInplace, {
  auto alpha = isMissing(info, 2) ? at::Scalar(1) : NS_SCALAR(2);
  if (isNumber(info, 1)) return NS_T(0).add_(NS_SCALAR(1), alpha);
  return NS_T(0).add_(NS_T(1), alpha);
})
NS_INPLACE(subInplace, {
  auto alpha = isMissing(info, 2) ? at::Scalar(1) : NS_SCALAR(2);
  if (isNumber(info, 1)) return NS_T(0).sub_(NS_SCALAR(1), alpha);
  return NS_T(0).sub_(NS_T(1), alpha);
})
NS_INPLACE(mulInplace, {
  if (isNumber(info, 1)) return NS_T(0).mul_(NS_SCALAR(1));
  return NS_T(0).mul_(NS_T(1));
})
NS_INPLACE(divInplace, {
  if (isNumber(info, 1)) return NS_T(0).div_(NS_SCALAR(1));
  return NS_T(0).div_(NS_T(1));
})
NS_INPLACE(addcmulInplace, { return NS_T(0).addcmul_(NS_T(1), NS_T(2), NS_SCALAR(3)); })
NS_INPLACE(addcdivInplace, { return NS_T(0).addcdiv_(NS_T(1), NS_T(2), NS_SCALAR(3)); })
NS_INPLACE(lerpInplace, { return NS_T(0).lerp_(NS_T(1), NS_SCALAR(2)); })
NS_INPLACE(copyInplace, { return NS_T(0).copy_(NS_T(1)); })
NS_INPLACE(zeroInplace, { return NS_T(0).zero_(); })
NS_INPLACE(fillInplace, { return NS_T(0).fill_(NS_SCALAR(1)); })
NS_INPLACE(clampInplace, {
  c10::optional<at::Scalar> lo, hi;
  if (!isMissing(info, 1)) lo = NS_SCALAR(1);
  if (!isMissing(info, 2)) hi = NS_SCALAR(2);
  return NS_T(0).clamp_(lo, hi);
})
NS_INPLACE(sqrtInplace, { return NS_T(0).sqrt_(); })
NS_INPLACE(reluInplace, { return NS_T(0).relu_(); })

void registerPointwise(Registry& r) {
  r.insert(r.end(), {{"add", add}, {"sub", sub}, {"rsub", rsub}, {"mul", mul}, {"div", div},
                     {"remainder", remainder}, {"eq", eq}, {"ne", ne}, {"lt", lt}, {"le", le}, {"gt", gt},
                     {"ge", ge}, {"bitwiseAnd", bitwiseAnd}, {"bitwiseOr", bitwiseOr}, {"bitwiseXor", bitwiseXor},
                     {"bitwiseLeftShift", bitwiseLeftShift}, {"bitwiseRightShift", bitwiseRightShift},
                     {"pow", pow}, {"maximum", maximum}, {"minimum", minimum}, {"logicalAnd", logicalAnd},
                     {"logicalOr", logicalOr}, {"clamp", clamp}, {"neg", neg}, {"exp", exp}, {"log", log},
                     {"log1p", log1p}, {"expm1", expm1}, {"sqrt", sqrt}, {"rsqrt", rsqrt}, {"abs", abs},
                     {"sign", sign}, {"sin", sin}, {"cos", cos}, {"tanh", tanh}, {"sigmoid", sigmoid},
                     {"floor", floor}, {"ceil", ceil}, {"round", round}, {"reciprocal", reciprocal},
                     {"square", square}, {"erf", erf}, {"logicalNot", logicalNot}, {"bitwiseNot", bitwiseNot},
                     {"isnan", isnan}, {"isfinite", isfinite}, {"addInplace", addInplace},
                     {"subInplace", subInplace}, {"mulInplace", mulInplace}, {"divInplace", divInplace},
                     {"addcmulInplace", addcmulInplace}, {"addcdivInplace", addcdivInplace},
                     {"lerpInplace", lerpInplace}, {"copyInplace", copyInplace}, {"zeroInplace", zeroInplace},
                     {"fillInplace", fillInplace}, {"clampInplace", clampInplace}, {"sqrtInplace", sqrtInplace},
                     {"reluInplace", reluInplace}});
}

}  // namespace ns
