"""Golden values for the tensor engine's tests (test/tensor/golden-*.test.ts).

Forward outputs and the gradients with respect to every input and parameter, from PyTorch, for the
layers and losses the engine wraps; plus the first values of the seeded random streams.

Run with Debian's Python (it has torch):  /usr/bin/python3 tools/golden/engine.py
Writes test/fixtures/golden/engine_nn.json and test/fixtures/golden/engine_random.json.

Every backward pass uses a fixed, saved upstream gradient `gout` (loss = sum(out * gout)), so a
wrong gradient cannot hide behind a symmetric all-ones upstream.
"""
import torch
import torch.nn.functional as F

from common import save_json

torch.set_default_dtype(torch.float32)
gen = torch.Generator().manual_seed(20190917)


def randn(*shape):
    return torch.randn(*shape, generator=gen)


def leaf(t):
    return t.clone().requires_grad_(True)


tensors = {}
extra = {}


def record(prefix, inputs, out, grads_of=None, gout=None):
    """Saves inputs, output, the upstream gradient and the gradient of every input that requires grad."""
    for name, t in inputs.items():
        tensors[f"{prefix}.{name}"] = t.detach()
    tensors[f"{prefix}.out"] = out.detach()
    if out.dim() == 0:
        out.backward()
    else:
        if gout is None:
            gout = randn(*out.shape)
        tensors[f"{prefix}.gout"] = gout
        out.backward(gout)
    for name, t in (grads_of or inputs).items():
        if isinstance(t, torch.Tensor) and t.requires_grad:
            tensors[f"{prefix}.grad_{name}"] = t.grad.detach().clone()


# ---- conv2d ----
x, w, b = leaf(randn(2, 4, 7, 7)), leaf(randn(6, 4, 3, 3) * 0.3), leaf(randn(6))
extra["conv_bias"] = {"stride": [2, 2], "padding": [1, 1], "groups": 1}
record("conv_bias", {"x": x, "w": w, "b": b}, F.conv2d(x, w, b, stride=2, padding=1))

x, w = leaf(randn(2, 4, 6, 5)), leaf(randn(6, 2, 3, 2) * 0.3)
extra["conv_groups"] = {"stride": [1, 2], "padding": [1, 0], "groups": 2}
record("conv_groups", {"x": x, "w": w}, F.conv2d(x, w, None, stride=(1, 2), padding=(1, 0), groups=2))

# ---- batch_norm, training: two calls update the running statistics (momentum 0.1) ----
x1, x2 = leaf(randn(4, 3, 5, 5) * 2 + 1), leaf(randn(4, 3, 5, 5) * 0.5 - 2)
w, b = leaf(randn(3)), leaf(randn(3))
rm, rv = torch.zeros(3), torch.ones(3)
extra["bn_train"] = {"momentum": 0.1, "eps": 1e-5}
out1 = F.batch_norm(x1, rm, rv, w, b, training=True, momentum=0.1, eps=1e-5)
tensors["bn_train.running_mean1"] = rm.clone()
tensors["bn_train.running_var1"] = rv.clone()
out2 = F.batch_norm(x2, rm, rv, w, b, training=True, momentum=0.1, eps=1e-5)
tensors["bn_train.out1"] = out1.detach()
tensors["bn_train.running_mean2"] = rm.clone()
tensors["bn_train.running_var2"] = rv.clone()
record("bn_train", {"x1": x1, "x2": x2, "w": w, "b": b}, out2, grads_of={"x2": x2, "w": w, "b": b})

# 2-d input [N, C] (as a BatchNorm1d embedding head), no affine
x = leaf(randn(8, 5) * 3)
rm, rv = torch.zeros(5), torch.ones(5)
out = F.batch_norm(x, rm, rv, None, None, training=True, momentum=0.1, eps=1e-5)
tensors["bn_train_2d.running_mean"] = rm.clone()
tensors["bn_train_2d.running_var"] = rv.clone()
record("bn_train_2d", {"x": x}, out)

# ---- batch_norm, eval: running statistics, no update ----
x, w, b = leaf(randn(3, 4, 3, 3)), leaf(randn(4)), leaf(randn(4))
rm, rv = randn(4), torch.rand(4, generator=gen) + 0.5
tensors["bn_eval.running_mean"], tensors["bn_eval.running_var"] = rm.clone(), rv.clone()
record("bn_eval", {"x": x, "w": w, "b": b}, F.batch_norm(x, rm, rv, w, b, training=False, momentum=0.1, eps=1e-5))

# ---- layer_norm ----
x, w, b = leaf(randn(3, 4, 5)), leaf(randn(5)), leaf(randn(5))
record("ln_affine", {"x": x, "w": w, "b": b}, F.layer_norm(x, [5], w, b, eps=1e-5))
x = leaf(randn(3, 4, 5) * 2)
record("ln_plain", {"x": x}, F.layer_norm(x, [4, 5], None, None, eps=1e-5))

# ---- linear ----
x, w, b = leaf(randn(5, 7)), leaf(randn(3, 7)), leaf(randn(3))
record("linear", {"x": x, "w": w, "b": b}, F.linear(x, w, b))
x, w = leaf(randn(2, 3, 4)), leaf(randn(6, 4))
record("linear_nobias", {"x": x, "w": w}, F.linear(x, w))

# ---- pooling ----
x = leaf(randn(2, 3, 9, 9))
record("maxpool", {"x": x}, F.max_pool2d(x, kernel_size=3, stride=2, padding=1))
x = leaf(randn(2, 3, 7, 7))
record("avgpool_1x1", {"x": x}, F.adaptive_avg_pool2d(x, (1, 1)))
x = leaf(randn(2, 3, 7, 5))
record("avgpool_3x2", {"x": x}, F.adaptive_avg_pool2d(x, (3, 2)))

# ---- cross_entropy ----
target = torch.tensor([0, 4, 2, 2, 1, 3], dtype=torch.int64)
tensors["ce.target"] = target
ce_cases = {
    "ce_mean": {"reduction": "mean", "label_smoothing": 0.0},
    "ce_sum": {"reduction": "sum", "label_smoothing": 0.0},
    "ce_mean_smooth": {"reduction": "mean", "label_smoothing": 0.1},
    "ce_sum_smooth": {"reduction": "sum", "label_smoothing": 0.2},
}
for name, o in ce_cases.items():
    logits = leaf(randn(6, 5) * 2)
    extra[name] = o
    record(name, {"logits": logits}, F.cross_entropy(logits, target, **o))

# ---- log_softmax, normalize ----
x = leaf(randn(4, 6) * 3)
record("log_softmax", {"x": x}, F.log_softmax(x, dim=1))
x = leaf(randn(5, 8))
record("normalize", {"x": x}, F.normalize(x, p=2, dim=1))
x = leaf(randn(3, 4, 2))
record("normalize_dim0", {"x": x}, F.normalize(x, p=2, dim=0))

save_json("engine_nn.json", tensors, extra)

# ---- random streams: the same seed must give PyTorch's numbers ----
rand_tensors = {}
torch.manual_seed(0)
rand_tensors["manual_seed0.rand5"] = torch.rand(5)
torch.manual_seed(0)
rand_tensors["manual_seed0.randn5"] = torch.randn(5)
torch.manual_seed(123)
rand_tensors["manual_seed123.rand2x3_f64"] = torch.rand(2, 3, dtype=torch.float64)
g = torch.Generator().manual_seed(42)
rand_tensors["generator42.rand4"] = torch.rand(4, generator=g)
save_json("engine_random.json", rand_tensors)
print(f"engine_nn.json: {len(tensors)} tensors; engine_random.json: {len(rand_tensors)} tensors")
