"""PyTorch side of bench/embed/run.ts: a folder of JPEGs to an .npy of embeddings, as a PyTorch user would.

Reads one JSON request per line on stdin and answers each with one JSON line on stdout:
  {"cmd": "setup", "threads": N}
      -> torch / torchvision / PIL versions and the thread count
  {"cmd": "embed", "files": [...], "arch": "resnet50"|"vit_b_16", "resize": R, "crop": C, "dim": D, "batch": B,
   "workers": W, "precision": "fp32"|"bf16", "seed": S, "out": "X.npy", "resizeMode": "square"|"shorter",
   "filter": "bilinear"|"bicubic", "dinov2": DIR (dinov2_vits14: a facebookresearch/dinov2 checkout)}
      -> {"imagesPerSecond", "seconds", "cpuSeconds", "images"}: a DataLoader (W worker processes, in
         order) with PIL decode (convert('RGB')), Resize((R, R)) (or Resize(R) for "shorter", with the
         filter), CenterCrop(C), ToTensor, Normalize
         (ImageNet), the model in eval mode and channels_last, torch.no_grad(); the embedder is
         torchvision's backbone without fc (vit_b_16: without heads), then LayerNorm (no affine), Linear(width, D, bias=False) and
         L2 normalisation (the work of our Embedder). Timed from creating the DataLoader to np.save done
         (worker start-up included, as ours includes its decode workers'); the model is built and warmed
         up on one random batch first; its weights come from torch.manual_seed(S), so that fp32 and bf16
         embed with the same weights. "bf16": the forward under torch.autocast("cpu", dtype=torch.bfloat16),
         the embeddings cast to float32.
  {"cmd": "pipeline", "files": [...], "resize": R, "crop": C, "batch": B, "workers": W}
      -> {"imagesPerSecond", "images", "cpuMsPerImage"}: the same DataLoader alone, rate from the first
         batch to the last (as bench/data counts it); CPU time of the whole pass (workers included) per image.
"""
import contextlib
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
import torchvision.transforms as T
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from jsonl_worker import dispatch, serve  # noqa: E402
from dinov2_hub import dinov2_backbone  # noqa: E402
from torch_setup import torch_setup  # noqa: E402

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
WIDTH = {"resnet18": 512, "resnet34": 512, "resnet50": 2048, "resnet101": 2048, "vit_b_16": 768}
FILTERS = {"bilinear": T.InterpolationMode.BILINEAR, "bicubic": T.InterpolationMode.BICUBIC}


class Files(torch.utils.data.Dataset):
    def __init__(self, files, resize, crop, resize_mode="square", filter="bilinear"):
        self.files = files
        # "shorter": Resize(int), the shorter side to resize (a ViT's eval pipeline); else Resize((R, R)).
        size = resize if resize_mode == "shorter" else (resize, resize)
        self.transform = T.Compose(
            [T.Resize(size, interpolation=FILTERS[filter]), T.CenterCrop(crop), T.ToTensor(), T.Normalize(MEAN, STD)]
        )

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        with open(self.files[i], "rb") as f:
            img = Image.open(f).convert("RGB")
        return self.transform(img)


class Embedder(torch.nn.Module):
    def __init__(self, arch, dim, dinov2=None):
        super().__init__()
        if arch.startswith("dinov2_"):
            self.backbone, self.width = dinov2_backbone(arch, dinov2)
        else:
            self.backbone = getattr(torchvision.models, arch)()
            # ResNets end in fc, the ViT in heads: without them the features are the pooled map / class token.
            if arch.startswith("vit_"):
                self.backbone.heads = torch.nn.Identity()
            else:
                self.backbone.fc = torch.nn.Identity()
            self.width = WIDTH[arch]
        self.remap = None if dim == self.width else torch.nn.Linear(self.width, dim, bias=False)

    def forward(self, x):
        h = F.layer_norm(self.backbone(x), (self.width,), eps=1e-5)
        if self.remap is not None:
            h = self.remap(h)
        return F.normalize(h, p=2, dim=1, eps=1e-12)


def loader(req):
    return torch.utils.data.DataLoader(
        Files(req["files"], req["resize"], req["crop"], req.get("resizeMode", "square"), req.get("filter", "bilinear")),
        batch_size=req["batch"],
        shuffle=False,
        num_workers=req["workers"],
    )


def cpu_seconds():
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def autocast(precision):
    if precision == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    if precision == "fp32":
        return contextlib.nullcontext()
    raise ValueError(f"precision {precision}: expected fp32 or bf16")


def embed(req):
    precision = req.get("precision", "fp32")
    torch.manual_seed(req.get("seed", 0))
    model = Embedder(req["arch"], req["dim"], req.get("dinov2")).eval().to(memory_format=torch.channels_last)
    with torch.no_grad(), autocast(precision):
        model(torch.randn(req["batch"], 3, req["crop"], req["crop"]).to(memory_format=torch.channels_last))
    cpu0 = cpu_seconds()
    start = time.perf_counter()
    parts = []
    with torch.no_grad():
        for images in loader(req):
            with autocast(precision):
                out = model(images.to(memory_format=torch.channels_last))
            parts.append(out.float())
    np.save(req["out"], torch.cat(parts).numpy())
    seconds = time.perf_counter() - start
    n = sum(p.shape[0] for p in parts)
    # Worker processes are counted once they have exited (RUSAGE_CHILDREN): the loader is gone here.
    return {"imagesPerSecond": n / seconds, "seconds": seconds, "cpuSeconds": cpu_seconds() - cpu0, "images": n}


def pipeline(req):
    cpu0 = cpu_seconds()
    first = None
    count = 0
    total = 0
    for images in loader(req):
        total += images.shape[0]
        if first is None:
            first = time.perf_counter()
        else:
            count += images.shape[0]
    rate = count / (time.perf_counter() - first)
    return {"imagesPerSecond": rate, "images": count, "cpuMsPerImage": (cpu_seconds() - cpu0) * 1000 / total}


def main():
    serve(dispatch({"setup": torch_setup, "embed": embed, "pipeline": pipeline}))


if __name__ == "__main__":
    main()
