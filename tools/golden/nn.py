"""Golden values for src/nn (test/nn/*.test.ts), from torchvision and PyTorch.

Run with Debian's Python (it has torch):
  /usr/bin/python3 tools/golden/nn.py            committed fixtures in test/fixtures/golden/:
      nn_resnet_keys.json      torchvision ResNet-18/34/50/101 state_dict keys and shapes, in order
      nn_blocks.json           a Bottleneck and a BasicBlock (with downsample): weights, input, eval and
                               train outputs, running statistics after the train pass, gradients
      nn_smallcnn.safetensors  the small CNN's weights, inputs and embeddings (eval and train)
  /usr/bin/python3 tools/golden/nn.py --resnet50-cache
      test/fixtures/.cache/ (gitignored, ~200 MB, made at test time): a seeded torchvision ResNet-50
      saved as nn_resnet50.pth (torch.save(state_dict)) and nn_resnet50.safetensors, and
      nn_resnet50_expected.safetensors: inputs, the remap weight, and the embeddings (eval: dim 2048 and
      128; train mode: dim 2048).

The embedding recipe (spec section 1): global average pool -> layer_norm without affine (eps 1e-5) ->
x @ remap^T when dim != width -> F.normalize(p=2, dim=1, eps=1e-12).
Every backward pass uses a fixed upstream gradient `gout` (loss = sum(out * gout)).
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

from common import GOLDEN, ROOT, out_path, save_json, save_safetensors

CACHE = os.path.join(ROOT, "test", "fixtures", ".cache")
torch.set_default_dtype(torch.float32)


def randomise_batchnorm(module, gen):
    """Non-trivial BatchNorm state so that eval mode is no identity: affine and running statistics."""
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                n = m.num_features
                m.weight.copy_(torch.rand(n, generator=gen) * 0.8 + 0.6)
                m.bias.copy_(torch.randn(n, generator=gen) * 0.1)
                m.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=gen) * 1.5 + 0.5)
                m.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=gen)))


def embed(features, remap=None):
    h = F.layer_norm(features, (features.shape[1],), eps=1e-5)
    if remap is not None:
        h = h @ remap.t()
    return F.normalize(h, p=2, dim=1, eps=1e-12)


def pooled(feature_map):
    return F.adaptive_avg_pool2d(feature_map, 1).flatten(1)


# ---- committed: torchvision key layout ----
def resnet_keys():
    layout = {}
    for name in ["resnet18", "resnet34", "resnet50", "resnet101"]:
        model = getattr(torchvision.models, name)()
        layout[name] = [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in model.state_dict().items()]
    save_json("nn_resnet_keys.json", {}, layout)


# ---- committed: single residual blocks ----
def block_case(tensors, prefix, block, x, gen):
    randomise_batchnorm(block, gen)
    for k, v in block.state_dict().items():
        tensors[f"{prefix}.sd.{k}"] = v.clone()
    tensors[f"{prefix}.x"] = x
    block.eval()
    with torch.no_grad():
        tensors[f"{prefix}.eval_out"] = block(x)
    block.train()
    xl = x.clone().requires_grad_(True)
    out = block(xl)
    gout = torch.randn(out.shape, generator=gen)
    out.backward(gout)
    tensors[f"{prefix}.train_out"] = out.detach()
    tensors[f"{prefix}.gout"] = gout
    tensors[f"{prefix}.grad_x"] = xl.grad
    tensors[f"{prefix}.grad_conv1.weight"] = block.conv1.weight.grad
    tensors[f"{prefix}.grad_bn1.weight"] = block.bn1.weight.grad
    tensors[f"{prefix}.grad_downsample.0.weight"] = block.downsample[0].weight.grad
    for k, v in block.state_dict().items():
        if "running" in k or "num_batches" in k:
            tensors[f"{prefix}.after.{k}"] = v.clone()


def blocks():
    from torchvision.models.resnet import BasicBlock, Bottleneck, conv1x1

    gen = torch.Generator().manual_seed(31)
    torch.manual_seed(31)
    tensors = {}
    ds = nn.Sequential(conv1x1(8, 16, 2), nn.BatchNorm2d(16))
    block_case(tensors, "bottleneck", Bottleneck(8, 4, stride=2, downsample=ds), torch.randn(2, 8, 8, 8, generator=gen), gen)
    ds = nn.Sequential(conv1x1(4, 8, 2), nn.BatchNorm2d(8))
    block_case(tensors, "basic", BasicBlock(4, 8, stride=2, downsample=ds), torch.randn(2, 4, 6, 6, generator=gen), gen)
    save_json("nn_blocks.json", tensors, {"bottleneck": {"inplanes": 8, "planes": 4, "stride": 2},
                                          "basic": {"inplanes": 4, "planes": 8, "stride": 2}})


# ---- committed: the small CNN (mirror of src/nn/smallcnn.ts) ----
class SmallCnn(nn.Module):
    def __init__(self, channels=(32, 64, 128)):
        super().__init__()
        c_in = 1
        for i, c in enumerate(channels):
            setattr(self, f"conv{i + 1}", nn.Conv2d(c_in, c, 3, padding=1, bias=False))
            setattr(self, f"bn{i + 1}", nn.BatchNorm2d(c))
            c_in = c
        self.n = len(channels)

    def forward(self, x):
        for i in range(self.n):
            x = F.relu(getattr(self, f"bn{i + 1}")(getattr(self, f"conv{i + 1}")(x)))
            if i < self.n - 1:
                x = F.max_pool2d(x, 2)
        return pooled(x)


def smallcnn():
    gen = torch.Generator().manual_seed(7)
    torch.manual_seed(7)
    model = SmallCnn()
    randomise_batchnorm(model, gen)
    tensors = {f"backbone.{k}": v.clone() for k, v in model.state_dict().items()}
    x = torch.rand(4, 1, 28, 28, generator=gen) * 2 - 1
    remap = (torch.rand(64, 128, generator=gen) * 2 - 1) / 128 ** 0.5
    tensors["input"] = x
    tensors["remap.weight"] = remap
    model.eval()
    with torch.no_grad():
        tensors["eval_features"] = model(x)
        tensors["eval_embedding128"] = embed(model(x))
        tensors["eval_embedding64"] = embed(model(x), remap)
    model.train()
    with torch.no_grad():
        tensors["train_embedding64"] = embed(model(x), remap)
    tensors["after.bn3.running_mean"] = model.bn3.running_mean.clone()
    tensors["after.bn3.running_var"] = model.bn3.running_var.clone()
    save_safetensors(out_path("nn_smallcnn.safetensors"), tensors)


# ---- cache: ResNet-50 parity ----
def atomic(path, write):
    tmp = f"{path}.tmp{os.getpid()}"
    write(tmp)
    os.replace(tmp, path)


def resnet50_cache():
    os.makedirs(CACHE, exist_ok=True)
    torch.manual_seed(2019)
    gen = torch.Generator().manual_seed(1811)
    model = torchvision.models.resnet50()
    randomise_batchnorm(model, gen)
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.rand(2, 3, 64, 64, generator=gen) * 4 - 2
    remap = (torch.rand(128, 2048, generator=gen) * 2 - 1) / 2048 ** 0.5
    backbone = nn.Sequential(*list(model.children())[:-2])
    model.eval()
    with torch.no_grad():
        f = pooled(backbone(x))
        expected = {"input": x, "remap.weight": remap, "eval_embedding2048": embed(f),
                    "eval_embedding128": embed(f, remap)}
    model.train()
    with torch.no_grad():
        expected["train_embedding2048"] = embed(pooled(backbone(x)))
    atomic(os.path.join(CACHE, "nn_resnet50.safetensors"), lambda p: save_safetensors(p, sd))
    atomic(os.path.join(CACHE, "nn_resnet50.pth"), lambda p: torch.save(sd, p))
    # Written last: its presence means the cache is complete.
    atomic(os.path.join(CACHE, "nn_resnet50_expected.safetensors"), lambda p: save_safetensors(p, expected))


if __name__ == "__main__":
    if "--resnet50-cache" in sys.argv:
        resnet50_cache()
    else:
        resnet_keys()
        blocks()
        smallcnn()
        print(f"wrote nn_resnet_keys.json, nn_blocks.json, nn_smallcnn.safetensors to {GOLDEN}")
