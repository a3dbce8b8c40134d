// Tensor handle bookkeeping that JS drives: handing tensors over to the garbage collector.
#include "common.h"

namespace ns {

// handOverToGc([handle, ...]): these tensors are no longer owned by a scope; report their bytes to V8.
NS_FN_VALUE(handOverToGcFn, {
  ::ns::handOverToGc(info, 0);
  return info.Env().Undefined();
})

void registerHandles(Registry& r) { r.insert(r.end(), {{"handOverToGc", handOverToGcFn}}); }

}  // namespace ns
