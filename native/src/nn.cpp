// Neural-network primitives: matmul, convolution, pooling, normalisation, activations, losses.
#include "common.h"

namespace ns {

NS_FN(matmul, { return at::matmul(NS_T(0), NS_T(1)); })
NS_FN(mm, { return at::mm(NS_T(0), NS_T(1)); })
NS_FN(bmm, { return at::bmm(NS_T(0), NS_T(1)); })
// addmm(bias, a, b, beta, alpha) = beta * bias + alpha * a @ b
NS_FN(addmm, { return at::addmm(NS_T(0), NS_T(1), NS_T(2), NS_SCALAR(3), NS_SCALAR(4)); })
NS_FN(linear, { return at::linear(NS_T(0), NS_T(1), NS_OPT_T(2)); })
// conv2d(x, w, b?, stride[2], padding[2], dilation[2], groups)
NS_FN(conv2d, {
  return at::conv2d(NS_T(0), NS_T(1), NS_OPT_T(2), NS_INTS(3), NS_INTS(4), NS_INTS(5), NS_INT(6));
})
// maxPool2d(x, kernel[2], stride[2], padding[2], dilation[2], ceilMode)
NS_FN(maxPool2d, { return at::max_pool2d(NS_T(0), NS_INTS(1), NS_INTS(2), NS_INTS(3), NS_INTS(4), NS_BOOL(5)); })
// avgPool2d(x, kernel[2], stride[2], padding[2], ceilMode, countIncludePad)
NS_FN(avgPool2d, {
  return at::avg_pool2d(NS_T(0), NS_INTS(1), NS_INTS(2), NS_INTS(3), NS_BOOL(4), NS_BOOL(5), c10::nullopt);
})
NS_FN(adaptiveAvgPool2d, { return at::adaptive_avg_pool2d(NS_T(0), NS_INTS(1)); })
// upsampleBicubic2d(x [N, C, H, W], outputSize[2], alignCorners, antialias, scaleH?, scaleW?):
// F.interpolate(mode='bicubic', antialias=...). Given scales (interpolate's scale_factor), the kernel maps
// coordinates by 1 / scale rather than by in / out sizes, as PyTorch does when it is called with a scale factor.
NS_FN(upsampleBicubic2d, {
  auto scaleH = ::ns::optDoubleArg(info, 4);
  auto scaleW = ::ns::optDoubleArg(info, 5);
  if (NS_BOOL(3)) return at::_upsample_bicubic2d_aa(NS_T(0), NS_INTS(1), NS_BOOL(2), scaleH, scaleW);
  return at::upsample_bicubic2d(NS_T(0), NS_INTS(1), NS_BOOL(2), scaleH, scaleW);
})
// batchNorm(x, weight?, bias?, runningMean?, runningVar?, training, momentum, eps); running stats update in place.
NS_FN(batchNorm, {
  return at::batch_norm(NS_T(0), NS_OPT_T(1), NS_OPT_T(2), NS_OPT_T(3), NS_OPT_T(4), NS_BOOL(5), NS_DOUBLE(6),
                        NS_DOUBLE(7), /*cudnn_enabled=*/true);
})
// layerNorm(x, normalizedShape, weight?, bias?, eps)
NS_FN(layerNorm, { return at::layer_norm(NS_T(0), NS_INTS(1), NS_OPT_T(2), NS_OPT_T(3), NS_DOUBLE(4), true); })
NS_FN(relu, { return at::relu(NS_T(0)); })
NS_FN(gelu, { return at::gelu(NS_T(0)); })
NS_FN(dropout, { return at::dropout(NS_T(0), NS_DOUBLE(1), NS_BOOL(2)); })
// normalize(x, p, dim, eps) = x / max(||x||_p, eps), as torch.nn.functional.normalize
NS_FN(normalize, {
  auto& x = NS_T(0);
  auto n = at::norm(x, c10::optional<at::Scalar>(NS_SCALAR(1)), {NS_INT(2)}, true).clamp_min(NS_DOUBLE(3));
  return x / n.expand_as(x);
})
NS_FN(logSoftmax, { return at::log_softmax(NS_T(0), NS_INT(1)); })
NS_FN(softmax, { return at::softmax(NS_T(0), NS_INT(1)); })
// crossEntropy(logits, target, weight?, reduction 0|1|2, ignoreIndex, labelSmoothing)
NS_FN(crossEntropy, {
  return at::cross_entropy_loss(NS_T(0), NS_T(1), NS_OPT_T(2), NS_INT(3), NS_INT(4), NS_DOUBLE(5));
})
NS_FN(nllLoss, { return at::nll_loss(NS_T(0), NS_T(1), NS_OPT_T(2), NS_INT(3), NS_INT(4)); })
NS_FN(mseLoss, { return at::mse_loss(NS_T(0), NS_T(1), NS_INT(2)); })

void registerNn(Registry& r) {
  r.insert(r.end(), {{"matmul", matmul}, {"mm", mm}, {"bmm", bmm}, {"addmm", addmm}, {"linear", linear},
                     {"conv2d", conv2d}, {"maxPool2d", maxPool2d}, {"avgPool2d", avgPool2d},
                     {"adaptiveAvgPool2d", adaptiveAvgPool2d}, {"upsampleBicubic2d", upsampleBicubic2d},
                     {"batchNorm", batchNorm},
                     {"layerNorm", layerNorm}, {"relu", relu}, {"gelu", gelu}, {"dropout", dropout},
                     {"normalize", normalize}, {"logSoftmax", logSoftmax}, {"softmax", softmax},
                     {"crossEntropy", crossEntropy}, {"nllLoss", nllLoss}, {"mseLoss", mseLoss}});
}

}  // namespace ns
