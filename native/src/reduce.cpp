// Reductions, sorting and selection.
#include "common.h"

namespace ns {

// sum(t, dims?, keepdim, dtype?); without dims: over all elements.
NS_FN(sum, {
  auto dtype = optDtypeArg(info, 3);
  if (isMissing(info, 1)) return at::sum(NS_T(0), dtype);
  return at::sum(NS_T(0), at::IntArrayRef(NS_INTS(1)), NS_BOOL(2), dtype);
})
NS_FN(mean, {
  if (isMissing(info, 1)) return at::mean(NS_T(0));
  return at::mean(NS_T(0), at::IntArrayRef(NS_INTS(1)), NS_BOOL(2));
})
NS_FN(prod, {
  if (isMissing(info, 1)) return at::prod(NS_T(0));
  return at::prod(NS_T(0), NS_INT(1), NS_BOOL(2));
})
// var(t, dims?, unbiased, keepdim)
NS_FN(var, {
  auto& t = NS_T(0);
  if (isMissing(info, 1)) return at::var(t, NS_BOOL(2));
  return at::var(t, at::IntArrayRef(NS_INTS(1)), NS_BOOL(2), NS_BOOL(3));
})
NS_FN(std, {
  auto& t = NS_T(0);
  if (isMissing(info, 1)) return at::std(t, NS_BOOL(2));
  return at::std(t, at::IntArrayRef(NS_INTS(1)), NS_BOOL(2), NS_BOOL(3));
})
// norm(t, p, dims?, keepdim)
NS_FN(norm, {
  auto& t = NS_T(0);
  if (isMissing(info, 2)) return at::norm(t, NS_SCALAR(1));
  return at::norm(t, c10::optional<at::Scalar>(NS_SCALAR(1)), at::IntArrayRef(NS_INTS(2)), NS_BOOL(3));
})
NS_FN(logsumexp, { return at::logsumexp(NS_T(0), at::IntArrayRef(NS_INTS(1)), NS_BOOL(2)); })
NS_FN(cumsum, { return at::cumsum(NS_T(0), NS_INT(1)); })
NS_FN(maxAll, { return at::max(NS_T(0)); })
NS_FN(minAll, { return at::min(NS_T(0)); })
NS_FN_VALUE(maxDim, {
  auto r = at::max(NS_T(0), NS_INT(1), NS_BOOL(2));
  return wrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
})
NS_FN_VALUE(minDim, {
  auto r = at::min(NS_T(0), NS_INT(1), NS_BOOL(2));
  return wrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
})
NS_FN(argmax, {
  if (isMissing(info, 1)) return at::argmax(NS_T(0));
  return at::argmax(NS_T(0), NS_INT(1), NS_BOOL(2));
})
NS_FN(argmin, {
  if (isMissing(info, 1)) return at::argmin(NS_T(0));
  return at::argmin(NS_T(0), NS_INT(1), NS_BOOL(2));
})
NS_FN(all, { return at::all(NS_T(0)); })
NS_FN(any, { return at::any(NS_T(0)); })
// topk(t, k, dim, largest, sorted) -> [values, indices]
NS_FN_VALUE(topk, {
  auto r = at::topk(NS_T(0), NS_INT(1), NS_INT(2), NS_BOOL(3), NS_BOOL(4));
  return wrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
})
// sort(t, dim, descending, stable) -> [values, indices]
NS_FN_VALUE(sort, {
  auto r = at::sort(NS_T(0), c10::optional<bool>(NS_BOOL(3)), NS_INT(1), NS_BOOL(2));
  return wrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
})
NS_FN(argsort, {
  auto r = at::sort(NS_T(0), c10::optional<bool>(NS_BOOL(3)), NS_INT(1), NS_BOOL(2));
  return std::get<1>(r);
})
// unique(t) -> [values sorted, inverse indices, counts]
NS_FN_VALUE(unique, {
  auto r = at::_unique2(NS_T(0), true, true, true);
  return wrapList(info.Env(), {std::get<0>(r), std::get<1>(r), std::get<2>(r)});
})
NS_FN(bincount, { return at::bincount(NS_T(0), NS_OPT_T(1), NS_INT(2)); })

void registerReduce(Registry& r) {
  r.insert(r.end(), {{"sum", sum}, {"mean", mean}, {"prod", prod}, {"var", var}, {"std", std},
                     {"norm", norm}, {"logsumexp", logsumexp}, {"cumsum", cumsum}, {"maxAll", maxAll},
                     {"minAll", minAll}, {"maxDim", maxDim}, {"minDim", minDim}, {"argmax", argmax},
                     {"argmin", argmin}, {"all", all}, {"any", any}, {"topk", topk}, {"sort", sort},
                     {"argsort", argsort}, {"unique", unique}, {"bincount", bincount}});
}

}  // namespace ns
