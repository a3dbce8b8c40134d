// Autograd: gradients, backward and the grad mode switch.
#include "common.h"

namespace ns {

NS_INPLACE(setRequiresGrad, { return NS_T(0).requires_grad_(NS_BOOL(1)); })
NS_FN_VALUE(requiresGrad, { return Napi::Boolean::New(info.Env(), NS_T(0).requires_grad()); })
NS_FN_VALUE(isLeaf, { return Napi::Boolean::New(info.Env(), NS_T(0).is_leaf()); })
NS_FN(grad, { return NS_T(0).grad(); })
// setGrad(t, g?) replaces (or clears) the accumulated gradient.
NS_FN_VALUE(setGrad, {
  auto& t = NS_T(0);
  if (isMissing(info, 1)) t.mutable_grad().reset();
  else t.mutable_grad() = NS_T(1);
  return info.Env().Undefined();
})
NS_FN(detach, { return NS_T(0).detach(); })
// backward(t, gradient?, retainGraph)
NS_FN_VALUE(backward, {
  auto& t = NS_T(0);
  auto g = NS_OPT_T(1);
  bool retain = !isMissing(info, 2) && NS_BOOL(2);
  t.backward(g.has_value() ? *g : at::Tensor(), retain);
  return info.Env().Undefined();
})
NS_FN_VALUE(setGradEnabled, {
  bool previous = at::GradMode::is_enabled();
  at::GradMode::set_enabled(NS_BOOL(0));
  return Napi::Boolean::New(info.Env(), previous);
})
NS_FN_VALUE(isGradEnabled, { return Napi::Boolean::New(info.Env(), at::GradMode::is_enabled()); })

void registerAutograd(Registry& r) {
  r.insert(r.end(), {{"setRequiresGrad", setRequiresGrad}, {"requiresGrad", requiresGrad}, {"isLeaf", isLeaf},
                     {"grad", grad}, {"setGrad", setGrad}, {"detach", detach}, {"backward", backward},
                     {"setGradEnabled", setGradEnabled}, {"isGradEnabled", isGradEnabled}});
}

}  // namespace ns
