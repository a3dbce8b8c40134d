"""torchvision side of bench/data/run.ts.

Reads one JSON request per line on stdin and answers each with one JSON line on stdout:
  {"cmd": "setup", "threads": N}
      -> torch / torchvision / PIL versions
  {"cmd": "pipeline", "files": [...], "batch": B, "workers": W, "seed": S, "draft": false}
      -> {"imagesPerSecond": ..., "images": N, "cpuMsPerImage": ...}: one pass of a DataLoader (W workers, shuffled) with the
         paper's train transform: pil_loader convert('RGB'), Resize((256, 256)), RandomCrop(224),
         RandomHorizontalFlip(), ToTensor(), Normalize(ImageNet); "draft": Image.draft('RGB', (256, 256))
         before convert('RGB'). Rate = images after the first batch
         / time from the first batch to the last, so worker start-up is not counted (same as ours).
  {"cmd": "step", "batch": B, "steps": K}
      -> {"imagesPerSecond": ...}: torchvision resnet50 forward + backward at 224x224 (train mode).
"""
import os
import resource
import sys
import time

import torch
import torchvision
import torchvision.transforms as T
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from jsonl_worker import dispatch, serve  # noqa: E402
from torch_setup import torch_setup  # noqa: E402

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


class Files(torch.utils.data.Dataset):
    def __init__(self, files, draft=False):
        self.files = files
        self.draft = draft
        self.transform = T.Compose(
            [
                T.Resize((256, 256)),
                T.RandomCrop(224),
                T.RandomHorizontalFlip(),
                T.ToTensor(),
                T.Normalize(MEAN, STD),
            ]
        )

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        with open(self.files[i], "rb") as f:
            img = Image.open(f)
            if self.draft:
                img.draft("RGB", (256, 256))
            img = img.convert("RGB")
        return self.transform(img), 0


def cpu_seconds():
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def pipeline(req):
    torch.manual_seed(req.get("seed", 0))
    cpu0 = cpu_seconds()
    loader = torch.utils.data.DataLoader(
        Files(req["files"], req.get("draft", False)), batch_size=req["batch"], shuffle=True, num_workers=req["workers"]
    )
    first = None
    count = 0
    for images, _ in loader:
        if first is None:
            first = time.perf_counter()
        else:
            count += images.shape[0]
    elapsed = time.perf_counter() - first
    # The workers have exited (the loader is exhausted), so RUSAGE_CHILDREN counts them.
    cpu_ms = (cpu_seconds() - cpu0) * 1000 / len(req["files"])
    return {"imagesPerSecond": count / elapsed, "images": count, "cpuMsPerImage": cpu_ms}


def step(req):
    model = torchvision.models.resnet50()
    model.train()
    x = torch.randn(req["batch"], 3, 224, 224)
    model(x).sum().backward()  # warm-up
    start = time.perf_counter()
    for _ in range(req["steps"]):
        model.zero_grad(set_to_none=True)
        model(x).sum().backward()
    return {"imagesPerSecond": req["batch"] * req["steps"] / (time.perf_counter() - start)}


def main():
    serve(dispatch({"setup": torch_setup, "pipeline": pipeline, "step": step}))


if __name__ == "__main__":
    main()
