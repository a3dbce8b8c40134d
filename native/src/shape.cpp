// Metadata, views, joins and indexing.
#include "common.h"

namespace ns {

NS_FN_VALUE(shape, {
  auto sizes = NS_T(0).sizes();
  auto arr = Napi::Array::New(info.Env(), sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) arr.Set(static_cast<uint32_t>(i), Napi::Number::New(info.Env(), sizes[i]));
  return arr;
})
NS_FN_VALUE(dtype, { return Napi::Number::New(info.Env(), static_cast<int>(NS_T(0).scalar_type())); })
NS_FN_VALUE(device, { return Napi::String::New(info.Env(), NS_T(0).device().str()); })
NS_FN_VALUE(isContiguous, { return Napi::Boolean::New(info.Env(), NS_T(0).is_contiguous()); })
// For 4-d tensors: whether the memory is NHWC (channels_last), what oneDNN's convolutions run fastest on.
NS_FN_VALUE(isChannelsLast, {
  return Napi::Boolean::New(info.Env(), NS_T(0).is_contiguous(at::MemoryFormat::ChannelsLast));
})
NS_FN_VALUE(sameStorage, {
  auto& a = NS_T(0);
  auto& b = NS_T(1);
  return Napi::Boolean::New(info.Env(), a.has_storage() && b.has_storage() && a.storage().is_alias_of(b.storage()));
})

NS_FN(reshape, { return NS_T(0).reshape(NS_INTS(1)); })
NS_FN(view, { return NS_T(0).view(NS_INTS(1)); })
NS_FN(permute, { return NS_T(0).permute(NS_INTS(1)); })
NS_FN(transpose, { return NS_T(0).transpose(NS_INT(1), NS_INT(2)); })
NS_FN(contiguous, { return NS_T(0).contiguous(); })
NS_FN(contiguousChannelsLast, { return NS_T(0).contiguous(at::MemoryFormat::ChannelsLast); })
// setData(t, src): t now holds src's storage (same shape, dtype and device; checked in TS), as
// PyTorch's `param.data = src`: a parameter keeps its identity (handles, optimiser state) with new memory.
NS_FN_VALUE(setData, {
  NS_T(0).set_data(NS_T(1));
  return info.Env().Undefined();
})
// slice(t, dim, start, end, step)
NS_FN(slice, { return NS_T(0).slice(NS_INT(1), NS_INT(2), NS_INT(3), NS_INT(4)); })
NS_FN(select, { return NS_T(0).select(NS_INT(1), NS_INT(2)); })
NS_FN(narrow, { return NS_T(0).narrow(NS_INT(1), NS_INT(2), NS_INT(3)); })
NS_FN(unsqueeze, { return NS_T(0).unsqueeze(NS_INT(1)); })
NS_FN(squeeze, { return isMissing(info, 1) ? NS_T(0).squeeze() : NS_T(0).squeeze(NS_INT(1)); })
NS_FN(flatten, { return NS_T(0).flatten(NS_INT(1), NS_INT(2)); })
NS_FN(expand, { return NS_T(0).expand(NS_INTS(1)); })
NS_FN(repeat, { return NS_T(0).repeat(NS_INTS(1)); })
NS_FN(flip, { return NS_T(0).flip(NS_INTS(1)); })
NS_FN(cat, { return at::cat(tensorListArg(info, 0), NS_INT(1)); })
NS_FN(stack, { return at::stack(tensorListArg(info, 0), NS_INT(1)); })
// split(t, sizeOrSizes, dim)
NS_FN_VALUE(split, {
  auto& t = NS_T(0);
  if (isNumber(info, 1)) return wrapList(info.Env(), t.split(NS_INT(1), NS_INT(2)));
  return wrapList(info.Env(), t.split_with_sizes(NS_INTS(1), NS_INT(2)));
})
NS_FN_VALUE(chunk, { return wrapList(info.Env(), NS_T(0).chunk(NS_INT(1), NS_INT(2))); })
NS_FN(indexSelect, { return NS_T(0).index_select(NS_INT(1), NS_T(2)); })
NS_FN(gather, { return NS_T(0).gather(NS_INT(1), NS_T(2)); })
// scatter(t, dim, index, srcTensorOrScalar)
NS_FN(scatter, {
  if (isNumber(info, 3)) return NS_T(0).scatter(NS_INT(1), NS_T(2), NS_SCALAR(3));
  return NS_T(0).scatter(NS_INT(1), NS_T(2), NS_T(3));
})
NS_FN(scatterAdd, { return NS_T(0).scatter_add(NS_INT(1), NS_T(2), NS_T(3)); })
// indexAdd(t, dim, index, source, alpha)
NS_FN(indexAdd, { return NS_T(0).index_add(NS_INT(1), NS_T(2), NS_T(3), NS_SCALAR(4)); })
NS_INPLACE(indexAddInplace, { return NS_T(0).index_add_(NS_INT(1), NS_T(2), NS_T(3), NS_SCALAR(4)); })
NS_INPLACE(indexCopyInplace, { return NS_T(0).index_copy_(NS_INT(1), NS_T(2), NS_T(3)); })
NS_FN(maskedFill, { return NS_T(0).masked_fill(NS_T(1), NS_SCALAR(2)); })
NS_FN(maskedSelect, { return NS_T(0).masked_select(NS_T(1)); })
NS_FN(nonzero, { return NS_T(0).nonzero(); })
// where(cond, a, b): a and b may each be a tensor or a number
NS_FN(where, {
  auto& cond = NS_T(0);
  if (isNumber(info, 1) && isNumber(info, 2)) return at::where(cond, NS_SCALAR(1), NS_SCALAR(2));
  if (isNumber(info, 1)) return at::where(cond, NS_SCALAR(1), NS_T(2));
  if (isNumber(info, 2)) return at::where(cond, NS_T(1), NS_SCALAR(2));
  return at::where(cond, NS_T(1), NS_T(2));
})
NS_FN(oneHot, { return at::one_hot(NS_T(0), NS_INT(1)); })
NS_FN(tril, { return NS_T(0).tril(NS_INT(1)); })
NS_FN(triu, { return NS_T(0).triu(NS_INT(1)); })
NS_FN(diagonal, { return NS_T(0).diagonal(NS_INT(1), NS_INT(2), NS_INT(3)); })

// to(t, dtype?, device?, copy)
NS_FN(to, {
  auto& t = NS_T(0);
  auto dtype = isMissing(info, 1) ? t.scalar_type() : dtypeArg(info, 1);
  auto device = isMissing(info, 2) ? t.device() : deviceArg(info, 2);
  return t.to(device, dtype, /*non_blocking=*/false, /*copy=*/!isMissing(info, 3) && NS_BOOL(3));
})
NS_FN(clone, { return NS_T(0).clone(); })

void registerShape(Registry& r) {
  r.insert(r.end(), {{"shape", shape}, {"dtype", dtype}, {"device", device}, {"isContiguous", isContiguous},
                     {"isChannelsLast", isChannelsLast}, {"contiguousChannelsLast", contiguousChannelsLast},
                     {"setData", setData},
                     {"sameStorage", sameStorage}, {"reshape", reshape}, {"view", view}, {"permute", permute},
                     {"transpose", transpose}, {"contiguous", contiguous}, {"slice", slice}, {"select", select},
                     {"narrow", narrow}, {"unsqueeze", unsqueeze}, {"squeeze", squeeze}, {"flatten", flatten},
                     {"expand", expand}, {"repeat", repeat}, {"flip", flip}, {"cat", cat}, {"stack", stack},
                     {"split", split}, {"chunk", chunk}, {"indexSelect", indexSelect}, {"gather", gather},
                     {"scatter", scatter}, {"scatterAdd", scatterAdd}, {"indexAdd", indexAdd},
                     {"indexAddInplace", indexAddInplace}, {"indexCopyInplace", indexCopyInplace},
                     {"maskedFill", maskedFill}, {"maskedSelect", maskedSelect}, {"nonzero", nonzero},
                     {"where", where}, {"oneHot", oneHot}, {"tril", tril}, {"triu", triu},
                     {"diagonal", diagonal}, {"to", to}, {"clone", clone}});
}

}  // namespace ns
